"""Training and inference: the loop, its losses and engines (plain PyTorch, DeepSpeed ZeRO), resumable state,
batched prediction, and pretraining small LMs on a synthetic world."""
