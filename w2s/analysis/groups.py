"""Label quality per group: where a dataset's examples carry a group (the kind of false statement in the world,
HellaSwag's source, ...), the accuracy of the weak labels and of every run's test predictions within each group.
Shows where the weak supervisor errs and whether students inherit its errors there or correct them."""

from __future__ import annotations

import polars as pl

from w2s.analysis.predictions import read_predictions

GROUPS_SCHEMA = {
    "dataset": pl.String,
    "seed": pl.Int64,
    "model": pl.String,
    "role": pl.String,  # weak, ceiling, student, or weak_labels (the weak model's labels of strong_train)
    "weak": pl.String,
    "loss": pl.String,
    "chain": pl.String,  # "" where they do not apply
    "group": pl.String,
    "n": pl.Int64,
    "accuracy": pl.Float64,
}


def group_table(runs: list[dict]) -> pl.DataFrame:
    """One row per predictions file and group: each run a dict with dataset, seed, model, role, weak, loss, chain
    and the file's path (`predictions`), as for the calibration analysis."""
    frames = []
    for run in runs:
        table = read_predictions(run["predictions"])
        frames.append(
            table.group_by("group")
            .agg(
                pl.len().cast(pl.Int64).alias("n"),
                pl.col("correct").mean().cast(pl.Float64).alias("accuracy"),
            )
            .with_columns(
                *(
                    pl.lit(run[k]).alias(k)
                    for k in ("dataset", "seed", "model", "role", "weak", "loss", "chain")
                )
            )
        )
    if not frames:
        return pl.DataFrame(schema=GROUPS_SCHEMA)
    return (
        pl.concat(frames, how="diagonal")
        .select(*GROUPS_SCHEMA)
        .cast(GROUPS_SCHEMA)
        .sort("dataset", "role", "model", "weak", "loss", "chain", "seed", "group")
    )
