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
    batch. The weight a follows `alpha_schedule` over the first warmup_frac of training, then stays at alpha_max:
    - "reference" (default): a = alpha_max * progress during warmup, then a jump to alpha_max: what the paper's
      reference code does (its published numbers were made with it). The weight stays small while the student
      first learns the weak labels' direction, so its own predictions are worth reinforcing when the jump comes.
    - "linear": a ramps linearly from 0 to alpha_max at the end of warmup, as the paper's text describes. It
      reinforces the student's early, still arbitrary predictions, and collapses more often (README, Benchmarks).
    """

    needs_batch_threshold = True
    SCHEDULES = ("reference", "linear")

    def __init__(
        self, alpha_max: float = 0.5, warmup_frac: float = 0.2, alpha_schedule: str = "reference"
    ):
        if alpha_schedule not in self.SCHEDULES:
            raise ValueError(
                f"alpha_schedule must be one of {list(self.SCHEDULES)}, got {alpha_schedule!r}"
            )
        self.alpha_max, self.warmup_frac, self.alpha_schedule = (
            alpha_max,
            warmup_frac,
            alpha_schedule,
        )

    def alpha(self, progress: float) -> float:
        if progress > self.warmup_frac or self.warmup_frac <= 0:
            return self.alpha_max
        if self.alpha_schedule == "reference":
            return self.alpha_max * progress
        return self.alpha_max * progress / self.warmup_frac

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
    """Cross-entropy to the normalised product target ∝ p^beta · weak^alpha (detached).

    The target is normalised in log space: where both classes' products underflow (a near-certain weak label
    against a confident student), a normaliser in probability space would be 0 and the row would lose its gradient.
    """

    needs_batch_threshold = False

    def __init__(self, alpha: float = 1.0, beta: float = 1.0):
        self.alpha, self.beta = alpha, beta

    def __call__(self, logits, p1, ctx: LossContext):
        log_student = F.log_softmax(logits.float().detach(), dim=-1)
        log_weak = torch.log(
            as_two_class(p1.float())
        )  # -inf for a hard 0, which the product keeps at 0
        log_target = torch.zeros_like(log_student)
        if self.alpha:
            log_target = log_target + self.alpha * log_weak
        if self.beta:
            log_target = log_target + self.beta * log_student
        return soft_cross_entropy(logits, torch.softmax(log_target, dim=-1))


LOSSES = {"xent": XentLoss, "logconf": LogConfLoss, "product": ProductLoss}


def make_loss(name: str, entry: dict):
    """Build the loss a config entry `losses.<name>: {type: ..., <params>}` describes."""
    params = {k: v for k, v in entry.items() if k != "type"}
    kind = entry.get("type", name)
    if kind not in LOSSES:
        raise W2SError(
            f"losses.{name}.type: unknown loss {kind!r}; expected one of {sorted(LOSSES)}"
        )
    try:
        return LOSSES[kind](**params)
    except (TypeError, ValueError) as exc:
        raise W2SError(
            f"losses.{name}: bad parameters {params} for loss type {kind!r}: {exc}"
        ) from exc
