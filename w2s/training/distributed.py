"""DeepSpeed ZeRO training: the engine the training loop steps when a model entry asks for DeepSpeed.

The loop does its own gradient accumulation (DeepSpeed's `managed_gradient_accumulation: false`: each `step()` is
a boundary), so a batch of any size, including an epoch's short last batch, gives the same update as the
single-process path. Checkpoints are saved in the plain format (`Classifier.save`); under ZeRO-3 from the weights
gathered onto rank 0 one parameter at a time (`gathered_state`).
"""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

import torch
import torch.distributed as dist

from w2s.training.runtime import bf16_enabled, device, trained_names, trained_state
from w2s.training.settings import TrainSettings, optimizer_and_schedule

SHARED_MEMORY_OP = "deepspeed_shm_comm"  # DeepSpeed's ShareMemCommBuilder.NAME


def init_distributed() -> None:
    """Join the process group a launcher (torchrun, or srun + torchrun) describes in the environment."""
    import deepspeed

    # DeepSpeed calls these collectives under their old names, once per step: keep the job logs readable.
    warnings.filterwarnings("ignore", r"`torch\.distributed\.\w+` is deprecated", FutureWarning)
    cuda = torch.cuda.is_available()
    if not cuda:
        # On a CPU, DeepSpeed's backend compiles a shared-memory all-reduce with the C++ compiler when it starts
        # (27 s on an idle 2-core machine, once per machine); only its inference path calls it, ZeRO reduces through
        # gloo.
        deepspeed.ops.__compatible_ops__[SHARED_MEMORY_OP] = False
    if not dist.is_initialized():
        deepspeed.init_distributed(dist_backend="nccl" if cuda else "gloo")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))


ZERO_STAGES = (2, 3)  # stage 1 (optimizer states only) saves too little to be worth a launcher


def deepspeed_config(settings: TrainSettings, stage: int, offload: bool, bf16: bool) -> dict:
    """In fp32, or, where training.autocast computes in bf16 on this device, in DeepSpeed's own bf16 mode: the
    module's weights in bf16 for compute and for ZeRO's gathers and reductions (half the traffic of fp32), fp32
    master weights and Adam moments in the optimizer's partitions. Autocast under ZeRO would instead keep bf16
    copies of every weight outside the partitioning until the backward pass."""
    zero = {"stage": stage}
    if offload:
        zero["offload_optimizer"] = {"device": "cpu"}
    return {
        "train_micro_batch_size_per_gpu": settings.minibatch_size,
        "gradient_accumulation_steps": 1,
        "managed_gradient_accumulation": False,  # the loop accumulates; every step() is an optimizer step
        "zero_optimization": zero,
        "zero_allow_untested_optimizer": True,  # the loop's own torch Adam/AdamW, as in the plain path
        "zero_force_ds_cpu_optimizer": False,
        # DeepSpeed clips the gradient norm at 1.0 unless told otherwise (its default since microsoft/DeepSpeed#8068,
        # June 2026); the plain path and the paper's recipe do not clip, so neither does this
        "gradient_clipping": 0.0,
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
        "bf16": {"enabled": bf16},
    }


class DeepSpeedEngine:
    """Same face as `LocalEngine`: call, backward, step, gather, lr, and the resumable state."""

    def __init__(
        self,
        model: torch.nn.Module,
        settings: TrainSettings,
        total_steps: int,
        stage: int = 2,
        offload: bool = False,
    ):
        import deepspeed

        optimizer, scheduler = optimizer_and_schedule(model, settings, total_steps)
        # the module computes in bf16 itself: the loop's autocast is then off (w2s.training.loop)
        self.bf16 = bf16_enabled(settings.autocast, device())
        self.engine, _, _, self.scheduler = deepspeed.initialize(
            model=model,
            optimizer=optimizer,
            lr_scheduler=scheduler,
            config=deepspeed_config(settings, stage, offload, self.bf16),
        )
        self.module, self.stage = self.engine.module, stage
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    @classmethod
    def factory(cls, stage: int, offload: bool):
        return lambda model, settings, total: cls(model, settings, total, stage, offload)

    def __call__(self, *inputs, **named):
        return self.engine(*inputs, **named)

    def backward(self, loss: torch.Tensor) -> None:
        self.engine.backward(loss, scale_wrt_gas=False)

    def step(self) -> None:
        self.engine.step()  # optimizer and lr schedule; zeroes the gradients

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        sizes = [torch.zeros(1, dtype=torch.long, device=tensor.device) for _ in range(self.world)]
        dist.all_gather(sizes, torch.tensor([len(tensor)], device=tensor.device))
        longest = int(max(s.item() for s in sizes))
        padded = torch.zeros(longest, *tensor.shape[1:], dtype=tensor.dtype, device=tensor.device)
        padded[: len(tensor)] = tensor
        parts = [torch.empty_like(padded) for _ in range(self.world)]
        dist.all_gather(parts, padded)
        return torch.cat([part[: int(size.item())] for part, size in zip(parts, sizes)])

    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    def model_state(self) -> dict | None:
        """The full weights in fp32, on rank 0 (None elsewhere): ZeRO's master weights. In fp32 training they equal
        the module's; in bf16 the module's are rounded from them, and `restore_weights` sets them again."""
        names = trained_names(self.module)
        if self.bf16:
            return master_state(self.module, self.rank, names)
        if self.stage == 3:
            return gathered_state(self.module, self.rank, names)
        state = trained_state(self.module.state_dict(), names)
        return {k: v.detach().cpu().clone() for k, v in state.items()} if self.rank == 0 else None

    def restore_weights(self, state: dict) -> None:
        """After a resumed run's engine starts from the saved weights (loaded into the module before it), the fp32
        master weights exactly as saved: in bf16 mode DeepSpeed makes them from the module's bf16 rounding."""
        if not self.bf16:
            return
        from deepspeed.utils import safe_set_full_fp32_param

        for name, param in self.module.named_parameters():
            if name in state:
                safe_set_full_fp32_param(param, state[name].to(device()))

    def state_dict(self) -> dict:
        """This process's share: its partition of the Adam moments (as the torch optimizer ZeRO steps holds them)
        and the schedule. A state resumes only with the same process count (the run fingerprint checks that)."""
        with partitioned_optimizer(self.engine.optimizer) as optimizer:
            return {"optimizer": optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        with partitioned_optimizer(self.engine.optimizer) as optimizer:
            optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])


@contextmanager
def partitioned_optimizer(zero_optimizer):
    """The torch optimizer ZeRO steps, holding this process's fp32 partitions. ZeRO-3 hands it the partitions only
    while stepping; like DeepSpeed's own checkpointing, attach them while the state is read or written."""
    attach = getattr(zero_optimizer, "_set_fp32_optimizer_param_groups", None)  # ZeRO-3 only
    if attach:
        attach()
    try:
        yield zero_optimizer.optimizer
    finally:
        if attach:
            zero_optimizer._clear_fp32_optimizer_param_groups()


def inference_module(model: torch.nn.Module, stage: int) -> torch.nn.Module:
    """`model` ready to predict in every process of a launched job: under ZeRO-3 its weights partitioned over the
    processes and gathered layer by layer in each forward pass (ZeRO-Inference: no process holds the whole model);
    under ZeRO-2, whole in each (the processes split the rows between them either way, w2s.training.predict)."""
    if stage != 3:
        return model
    import deepspeed

    config = {
        "train_micro_batch_size_per_gpu": 1,
        "zero_optimization": {"stage": 3},
        "steps_per_print": 10**9,
    }
    engine, *_ = deepspeed.initialize(model=model, config=config)
    return engine.module


def gathered_state(model: torch.nn.Module, rank: int, names: set[str] | None = None) -> dict | None:
    """A ZeRO-3 model's state dict (its entries in `names`, where given) as CPU tensors on rank 0 (None elsewhere;
    every rank must call this). Each parameter is gathered on its own and copied out before the next, so no process
    holds the whole model on its device at once: only rank 0's CPU copy grows to the model's size."""
    import deepspeed

    state = {}
    for name, value in model.state_dict(keep_vars=True).items():  # the same order on every rank
        if names is not None and name not in names:
            continue
        if hasattr(value, "ds_id"):  # a partitioned parameter
            with deepspeed.zero.GatheredParameters([value], modifier_rank=None):
                if rank == 0:
                    state[name] = value.detach().cpu().clone()
        elif rank == 0:
            state[name] = value.detach().cpu().clone()
    return state if rank == 0 else None


def master_state(model: torch.nn.Module, rank: int, names: set[str] | None = None) -> dict | None:
    """A model trained in DeepSpeed's bf16 mode: its state dict (its entries in `names`, where given) on rank 0
    (None elsewhere; every rank must call this) with each trained weight its fp32 master, gathered one at a time
    from the optimizer's partitions, and floating buffers in fp32."""
    from deepspeed.utils import safe_get_full_fp32_param

    state = {}
    for name, value in model.state_dict(keep_vars=True).items():  # the same order on every rank
        if names is not None and name not in names:
            continue
        if isinstance(value, torch.nn.Parameter) and value.requires_grad:
            value = safe_get_full_fp32_param(value)
        if rank == 0:
            value = value.detach().cpu().clone()
            state[name] = value.float() if value.is_floating_point() else value
    return state if rank == 0 else None


def trains_in_bf16(model: torch.nn.Module) -> bool:
    """Whether a DeepSpeed engine's module trains in its bf16 mode: its trained weights are bf16 (the plain path
    holds them in fp32 whatever the checkpoint's dtype)."""
    return any(p.requires_grad and p.dtype == torch.bfloat16 for p in model.parameters())


def checkpoint_state(model: torch.nn.Module, zero_stage: int, rank: int) -> dict | None:
    """What a checkpoint is saved from: in DeepSpeed's bf16 mode the fp32 master weights, under ZeRO-3 the weights
    gathered onto rank 0 (with LoRA, only those that trained); or None where every rank holds its module's fp32
    weights (the plain path and ZeRO-2 in fp32) and the checkpoint is saved from the module itself."""
    if zero_stage and trains_in_bf16(model):
        return master_state(model, rank, trained_names(model))
    return gathered_state(model, rank, trained_names(model)) if zero_stage == 3 else None
