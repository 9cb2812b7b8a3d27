"""Label quality per group: where a dataset's examples carry a group (the kind of false statement in the world,
HellaSwag's source, ...), the accuracy of the weak labels and of every run's test predictions within each group.
Shows where the weak supervisor errs and whether students inherit its errors there or correct them."""

from __future__ import annotations

import polars as pl

from w2s.records.predictions import read_predictions

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


# A group is a small part of the test split: below this gap between the ceiling and the weak model its PGR would be
# a ratio of noise (values of 5 or -3 from a gap of 0.01).
MIN_GROUP_GAP = 0.05
GROUP_PGR_SCHEMA = {
    "dataset": pl.String,
    "weak": pl.String,
    "strong": pl.String,
    "loss": pl.String,
    "chain": pl.String,
    "group": pl.String,
    "n_seeds": pl.Int64,
    "n": pl.Float64,  # the group's test examples, a mean over seeds
    "weak_acc_mean": pl.Float64,
    "ceiling_acc_mean": pl.Float64,
    "student_acc_mean": pl.Float64,
    "pgr_of_means": pl.Float64,
}


def group_pgr(table: pl.DataFrame) -> pl.DataFrame:
    """PGR per group of test examples: for each student cell and group, the means over seeds of the weak model's,
    the ceiling's and the student's accuracy within the group, and the PGR of those means (null where the ceiling
    beats the weak model there by less than MIN_GROUP_GAP). Where a student recovers the gap on some groups and not
    on others, the headline's PGR is an average of unlike things."""
    on = ["dataset", "seed", "group"]
    weak = table.filter(pl.col("role") == "weak").select(
        *on, pl.col("model").alias("weak"), pl.col("accuracy").alias("weak_acc")
    )
    ceiling = table.filter(pl.col("role") == "ceiling").select(
        *on, pl.col("model").alias("strong"), pl.col("accuracy").alias("ceiling_acc")
    )
    students = (
        table.filter(pl.col("role") == "student")
        .select(*on, "weak", pl.col("model").alias("strong"), "loss", "chain", "n", "accuracy")
        .join(weak, on=[*on, "weak"])
        .join(ceiling, on=[*on, "strong"])
    )
    cells = students.group_by("dataset", "weak", "strong", "loss", "chain", "group").agg(
        pl.len().cast(pl.Int64).alias("n_seeds"),
        pl.col("n").mean().cast(pl.Float64),
        pl.col("weak_acc").mean().alias("weak_acc_mean"),
        pl.col("ceiling_acc").mean().alias("ceiling_acc_mean"),
        pl.col("accuracy").mean().alias("student_acc_mean"),
    )
    gap = pl.col("ceiling_acc_mean") - pl.col("weak_acc_mean")
    of_means = pl.when(gap >= MIN_GROUP_GAP).then(
        (pl.col("student_acc_mean") - pl.col("weak_acc_mean")) / gap
    )
    return (
        cells.with_columns(of_means.alias("pgr_of_means"))
        .select(*GROUP_PGR_SCHEMA)
        .cast(GROUP_PGR_SCHEMA)
        .sort("dataset", "weak", "strong", "loss", "chain", "group")
    )
