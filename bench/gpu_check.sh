#!/usr/bin/env bash
# The GPU path once, on a machine with a CUDA GPU: the tests that exercise it (model, training loop, DeepSpeed
# over NCCL, gradient checkpointing, LoRA), peak memory with and without gradient checkpointing, then the training
# throughput and MFU of a GPT-2-medium-sized model built from config (24 x 1024, ~355M parameters) in fp32 and
# bf16, plain, under DeepSpeed ZeRO-2/3 and with LoRA, written to OUTDIR/gpu_throughput.md.
#
#     bash bench/gpu_check.sh [OUTDIR]        (default bench/results; PYTHON picks the interpreter)
set -euo pipefail
out=${1:-bench/results}
python=${PYTHON:-python}
mkdir -p "$out"
"$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU visible to torch'"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.csv"
# Two processes need two GPUs under NCCL: on a one-GPU machine only the one-process DeepSpeed runs can go.
deselect=()
if [ "$("$python" -c 'import torch; print(torch.cuda.device_count())')" -lt 2 ]; then
    deselect=(--deselect "tests/test_deepspeed.py::test_zero_matches_plain_path[2-2]"
              --deselect "tests/test_deepspeed.py::test_zero_matches_plain_path[3-2]"
              --deselect tests/test_deepspeed.py::test_pipeline_trains_a_deepspeed_model)
fi
"$python" -m pytest -q -p no:cacheprovider "${deselect[@]}" tests/test_model.py tests/test_train.py \
    tests/test_deepspeed.py tests/test_recompute.py tests/test_lora.py 2>&1 | tee "$out/gpu_tests.log"
# Gradient checkpointing on the GPU: activations kept, peak allocated memory and step time, with and without.
"$python" bench/memory.py --device cuda --hidden 1024 --layers 24 --batch 8 --tokens 512 --rounds 2 \
    | tee "$out/gpu_memory.txt"
"$python" bench/train_throughput.py --hidden 1024 --layers 24 --heads 16 --length 256 --examples 1024 \
    --repeats 2 --threads 8 --engines plain,zero2,zero3,lora --out "$out/gpu_throughput.md"
