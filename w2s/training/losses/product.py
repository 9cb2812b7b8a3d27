"""The product loss: cross-entropy to a target between the weak label and the student's own prediction."""

from __future__ import annotations

from w2s.training.losses.base import Loss, LossContext, as_two_class, soft_cross_entropy


class ProductLoss(Loss):
    """Cross-entropy to the normalised product target ∝ p^beta · weak^alpha (detached).

    The target is normalised in log space: where both classes' products underflow (a near-certain weak label
    against a confident student), a normaliser in probability space would be 0 and the row would lose its gradient.
    """

    type = "product"
    options = {
        "alpha": {"type": "number", "description": "exponent of the weak label"},
        "beta": {"type": "number", "description": "exponent of the student's prediction"},
    }

    def __init__(self, alpha: float = 1.0, beta: float = 1.0):
        self.alpha, self.beta = alpha, beta

    def __call__(self, logits, p1, ctx: LossContext):
        import torch
        import torch.nn.functional as F

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
