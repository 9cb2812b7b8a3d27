"""Training losses over a two-class head: soft-label cross-entropy and the paper's weak-to-strong variants.

Every loss takes logits [B, 2], the targets' p(label = 1) [B], and a `LossContext` holding what the training loop
knows: progress through training, and (for losses that need it) a statistic of the *whole* batch, computed once
per optimizer step so that gradient accumulation over minibatches does not change the loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from w2s.errors import W2SError


@dataclass
class LossContext:
    progress: float = 0.0  # fraction of optimizer steps done, in [0, 1]
    threshold: float | None = None  # logconf: p(1) cut-off computed over the whole batch


def as_two_class(p1: torch.Tensor) -> torch.Tensor:
    return torch.stack([1 - p1, p1], dim=-1)


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over rows of -sum_c target_c log softmax(logits)_c; `target` is [B, 2]."""
    return -(target * F.log_softmax(logits.float(), dim=-1)).sum(dim=-1).mean()


class XentLoss:
    """Cross-entropy to the (soft) targets."""

    needs_batch_threshold = False

    def __call__(self, logits, p1, ctx: LossContext):
        return soft_cross_entropy(logits, as_two_class(p1))


class LogConfLoss:
    """Auxiliary confidence loss: (1-a) CE(p, weak) + a CE(p, hard_t(p)).

    hard_t(p) thresholds the student's own p(1) so that its positive share equals the weak labels' mean over the
    batch. a ramps linearly from 0 to alpha_max over the first warmup_frac of training, then stays there.
    """

    needs_batch_threshold = True

    def __init__(self, alpha_max: float = 0.5, warmup_frac: float = 0.2):
        self.alpha_max, self.warmup_frac = alpha_max, warmup_frac

    def alpha(self, progress: float) -> float:
        if self.warmup_frac <= 0:
            return self.alpha_max
        return self.alpha_max * min(1.0, progress / self.warmup_frac)

    @staticmethod
    def batch_threshold(student_p1: torch.Tensor, target_p1: torch.Tensor) -> float:
        """The quantile of the student's p(1) above which the share of rows equals the targets' mean."""
        return torch.quantile(student_p1.float(), 1 - target_p1.float().mean()).item()

    def __call__(self, logits, p1, ctx: LossContext):
        student_p1 = torch.softmax(logits.float().detach(), dim=-1)[:, 1]
        hard = (student_p1 > ctx.threshold).float()
        a = self.alpha(ctx.progress)
        on_targets = soft_cross_entropy(logits, as_two_class(p1))
        on_own = soft_cross_entropy(logits, as_two_class(hard))
        return (1 - a) * on_targets + a * on_own


class ProductLoss:
    """Cross-entropy to the normalised product target ∝ p^beta · weak^alpha (detached)."""

    needs_batch_threshold = False

    def __init__(self, alpha: float = 1.0, beta: float = 1.0):
        self.alpha, self.beta = alpha, beta

    def __call__(self, logits, p1, ctx: LossContext):
        student = torch.softmax(logits.float().detach(), dim=-1)
        target = as_two_class(p1.float()) ** self.alpha * student**self.beta
        target = target / target.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        return soft_cross_entropy(logits, target)


LOSSES = {"xent": XentLoss, "logconf": LogConfLoss, "product": ProductLoss}


def make_loss(name: str, entry: dict):
    """Build the loss a config entry `losses.<name>: {type: ..., <params>}` describes."""
    params = {k: v for k, v in entry.items() if k != "type"}
    kind = entry.get("type", name)
    if kind not in LOSSES:
        raise W2SError(f"losses.{name}.type: unknown loss {kind!r}; expected one of {sorted(LOSSES)}")
    try:
        return LOSSES[kind](**params)
    except TypeError as exc:
        raise W2SError(f"losses.{name}: bad parameters {params} for loss type {kind!r}: {exc}") from exc
