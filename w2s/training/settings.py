"""A training run's recipe (TrainSettings: every field from the config; its defaults live in the config schema
alone), the optimizers and the learning-rate schedule."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from w2s.errors import W2SError


@dataclass(frozen=True, kw_only=True)
class TrainSettings:
    """A run's recipe. No field has a default here: the config schema (w2s/pipeline/config.schema.yaml) is the one
    place defaults live, and a run gets every field from its validated config (w2s.pipeline.rule_params)."""

    lr: float
    batch_size: int
    minibatch_size: int
    epochs: int
    optimizer: str  # adam | adamw
    weight_decay: float
    warmup_frac: float  # share of steps with linear lr warmup before the cosine decay
    schedule: str  # cosine | constant
    eval_every: int  # optimizer steps between evaluations; 0: evaluate at the end only
    log_every: int
    autocast: str  # auto (bf16 where the device computes it natively) | bf16 | off
    dropout: str  # off (the reference recipe) | model (the model's own dropout while training)
    seed: int
    checkpoint_every: int  # optimizer steps between resumable states; 0: none
    group_by_length: (
        bool  # cut each batch into minibatches of near-equal length (less padding, same update)
    )


OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}


class Diverged(W2SError):
    """The loss became NaN or infinite: every later step and prediction would be meaningless."""


SCHEDULES = ("cosine", "constant")


def lr_factor(step: int, total: int, settings: TrainSettings) -> float:
    warmup = int(settings.warmup_frac * total)
    if step < warmup:
        return (step + 1) / warmup
    if settings.schedule == "constant":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def optimizer_and_schedule(model: torch.nn.Module, settings: TrainSettings, total_steps: int):
    trainable = [p for p in model.parameters() if p.requires_grad]  # not a frozen backbone's (LoRA)
    optimizer = OPTIMIZERS[settings.optimizer](
        trainable, lr=settings.lr, weight_decay=settings.weight_decay
    )
    return optimizer, torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, total_steps, settings)
    )
