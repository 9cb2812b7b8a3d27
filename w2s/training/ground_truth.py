"""A ground-truth budget: a student that learns from its supervisor's labels on most rows and from the truth on a
seeded share of them (a loss entry's `ground_truth` option; forks of the reference code add it, and users ask how
much a little truth buys). The rows are chosen by the run's seed, so every loss of a cell with the same share sees
the truth on the same rows."""

from __future__ import annotations

import random

import polars as pl

OPTION = "ground_truth"
SCHEMA = {
    "type": "number",
    "minimum": 0,
    "maximum": 1,
    "description": "Share of the student's training rows that carry their ground truth instead of the weak label "
    "(chosen by the run's seed; default 0).",
}
TRUTH = {"soft_label": "label", "generated": "answer"}  # a labels file's weak column: its true one


def with_ground_truth(
    frame: pl.DataFrame, target_column: str, share: float, seed: int
) -> pl.DataFrame:
    """`frame` (a labels file's rows) with the target of a seeded `share` of its rows replaced by the truth."""
    truth = TRUTH[target_column]
    chosen = random.Random(f"ground_truth:{seed}").sample(
        range(frame.height), round(share * frame.height)
    )
    picked = set(chosen)
    mask = pl.Series([row in picked for row in range(frame.height)])
    value = pl.col(truth).cast(frame.schema[target_column])
    print(
        f"ground truth: {len(chosen)} of {frame.height} training rows learn their true label",
        flush=True,
    )
    return frame.with_columns(
        pl.when(mask).then(value).otherwise(pl.col(target_column)).alias(target_column)
    )
