"""Soft-label cross-entropy: the paper's baseline student loss."""

from __future__ import annotations

from w2s.training.losses.base import Loss, LossContext, as_two_class, soft_cross_entropy


class XentLoss(Loss):
    """Cross-entropy to the (soft) targets."""

    type = "xent"
    answers = True

    def __call__(self, logits, p1, ctx: LossContext):
        return soft_cross_entropy(logits, as_two_class(p1))
