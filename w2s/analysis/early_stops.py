"""Early stopping from one training run: among the evaluations on its schedule (every eval_every steps, and the
end), the one each method picks. `weak_val` is the deployable choice: the evaluation where the run agreed best with
its own supervision on the validation split (a student: its weak supervisor's hard labels; a weak or ceiling run:
ground truth), by accuracy. `oracle` picks the best test accuracy: the paper's optimistic bound, which peeks at the
test labels. Ties go to the earliest evaluation."""

from __future__ import annotations

from w2s.errors import W2SError

CRITERIA = {"weak_val": "val_agreement", "oracle": "test_accuracy"}
# What each early_stopping setting reports besides the final model: weak_val's evaluations give the oracle for free.
REPORTED = {"none": (), "weak_val": ("weak_val", "oracle"), "oracle": ("oracle",)}


def early_stops(trajectory: list[dict], setting: str, info: dict, n_test: int) -> list[dict]:
    """One record per method the setting reports, in the shape of a metrics.json (info, accuracy, auroc, n) plus
    the method (`early_stopping`), the step it picked and its criterion's value there."""
    evaluations = [entry for entry in trajectory if "test_accuracy" in entry]
    records = []
    for method in REPORTED[setting]:
        criterion = CRITERIA[method]
        candidates = [entry for entry in evaluations if criterion in entry]
        if not candidates:
            raise W2SError(
                f"early stopping {method}: the run's trajectory has no evaluation with {criterion}"
            )
        best = max(candidates, key=lambda entry: entry[criterion])  # max keeps the first of equals
        records.append(
            {
                **info,
                "early_stopping": method,
                "step": best["step"],
                criterion: best[criterion],
                "accuracy": best["test_accuracy"],
                "auroc": best["test_auroc"],
                "n": n_test,
            }
        )
    return records
