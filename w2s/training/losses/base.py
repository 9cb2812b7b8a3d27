"""What every loss shares: the context the training loop gives it, the two-class view of p(1), soft-label
cross-entropy, and the base class whose subclasses are the config's loss types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

# torch is imported where a loss computes, not with the module: the workflow reads the loss classes' options when it
# checks a config (w2s.pipeline.config_checks.check_loss), and a Snakemake run should not load torch for that.


@dataclass
class LossContext:
    progress: float = 0.0  # fraction of optimizer steps done, in [0, 1]
    threshold: float | None = None  # logconf: p(1) cut-off computed over the whole batch
    # a generative task's: each row's mean log-probability of the student's own answer, the most probable token at
    # each answer position given the taught answer's tokens before it (w2s.models.answerer); None otherwise
    own_logprobs: torch.Tensor | None = None


def as_two_class(p1: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.stack([1 - p1, p1], dim=-1)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over rows of -sum_c target_c log softmax(logits)_c; `target` is [B, 2]."""
    import torch.nn.functional as F

    return -(target * F.log_softmax(logits.float(), dim=-1)).sum(dim=-1).mean()


class Loss:
    """A config loss type: a subclass in a module of this package, named by `type`, whose `options` (JSON schema
    properties, with a description each) are its constructor's parameters; the config is checked against them.

    A loss is called on logits [B, 2], the targets' p(1) [B] and a LossContext. `needs_batch_threshold`: the loop
    computes `batch_threshold` over the whole batch first. `keep` may choose the training rows the run learns from,
    once, before training (None: all of them)."""

    type: str
    options: dict = {}
    needs_batch_threshold = False
    answers = False  # defined for generated answers too (the grid trains a generative dataset with these only)

    def keep(self, targets: np.ndarray) -> np.ndarray | None:
        return None
