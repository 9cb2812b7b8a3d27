"""A run's metrics record made by hand, as the summary reads it from metrics.json (w2s.analysis.summary.runs_table),
for the tests of the summary, the CLI and the benchmarks' tables."""

from __future__ import annotations


def metrics_record(
    role: str,
    model: str,
    accuracy: float,
    *,
    dataset: str = "d",
    seed: int = 0,
    n: int = 100,
    **more,
) -> dict:
    """`more`: the run's other keys (weak and loss for a student, legal_rate, ...); weak and loss default to None."""
    return {
        "dataset": dataset,
        "seed": seed,
        "role": role,
        "model": model,
        "weak": None,
        "loss": None,
        "accuracy": accuracy,
        "n": n,
        **more,
    }
