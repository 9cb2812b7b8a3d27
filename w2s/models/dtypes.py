"""The dtype training holds weights in, by name: what the jobs use and the plan's disk and memory estimates count,
without importing torch."""

# Training holds its weights in fp32, whatever dtype a checkpoint carries (Qwen2.5's: bf16) or an entry's `dtype`
# asks for: at the paper's learning rates most of Adam's updates are below bf16's resolution (10 steps at lr 1e-5
# left 85% of a bf16 model's weights unchanged, measured on a CPU), so bf16 weights would barely train. bf16
# compute comes from autocast (training.autocast), over these fp32 master weights.
TRAINING_DTYPE = "float32"
