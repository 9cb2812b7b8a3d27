"""The paper's auxiliary confidence loss."""

from __future__ import annotations

from w2s.training.losses.base import Loss, LossContext, as_two_class, soft_cross_entropy


class LogConfLoss(Loss):
    """Auxiliary confidence loss: (1-a) CE(p, weak) + a CE(p, hard_t(p)).

    hard_t(p) thresholds the student's own p(1) so that its positive share equals the weak labels' mean over the
    batch. The weight a follows `alpha_schedule` over the first warmup_frac of training, then stays at alpha_max:
    - "reference" (default): a = alpha_max * progress during warmup, then a jump to alpha_max: what the paper's
      reference code does (its published numbers were made with it). The weight stays small while the student
      first learns the weak labels' direction, so its own predictions are worth reinforcing when the jump comes.
    - "linear": a ramps linearly from 0 to alpha_max at the end of warmup, as the paper's text describes. It
      reinforces the student's early, still arbitrary predictions, and collapses more often (docs/benchmarks.md).

    On generated answers (the two-class view of w2s.models.answerer, whose p(1) is the taught answer's probability)
    the own term is the cross-entropy to the student's own answer, token by token: at each answer position the
    token it finds most probable given the taught answer's tokens before it (`LossContext.own_logprobs`), so the
    loss is (1-a) CE(taught tokens) + a CE(own argmax tokens), the same schedule. Hardening by argmax is the
    confidence loss's multi-class form; the binary threshold, which keeps the student's positive share at the weak
    labels', has no counterpart over a vocabulary and is not used. Where the student's argmax is the taught token the
    two terms agree; where it is not, the loss weighs imitating the supervisor against reinforcing itself.
    """

    type = "logconf"
    needs_batch_threshold = True
    answers = True
    SCHEDULES = ("reference", "linear")
    options = {
        "alpha_max": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "final weight of the self-confidence term",
        },
        "warmup_frac": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "share of steps over which alpha ramps up",
        },
        "alpha_schedule": {
            "enum": list(SCHEDULES),
            "description": "how alpha moves during warmup: reference (the paper's code) or linear (its text)",
        },
    }

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
    def batch_threshold(student_p1, target_p1) -> float:
        """The quantile of the student's p(1) above which the share of rows equals the targets' mean."""
        import torch

        return torch.quantile(student_p1.float(), 1 - target_p1.float().mean()).item()

    def __call__(self, logits, p1, ctx: LossContext):
        import torch

        a = self.alpha(ctx.progress)
        on_targets = soft_cross_entropy(logits, as_two_class(p1))
        if ctx.own_logprobs is not None:  # generated answers (class docstring)
            return (1 - a) * on_targets - a * ctx.own_logprobs.float().mean()
        student_p1 = torch.softmax(logits.float().detach(), dim=-1)[:, 1]
        hard = (student_p1 > ctx.threshold).float()
        on_own = soft_cross_entropy(logits, as_two_class(hard))
        return (1 - a) * on_targets + a * on_own
