"""Agreement and error imitation (the paper's imitation analysis): on the test split, how often a model's answer is
its weak supervisor's, split by whether the supervisor was right or wrong. A student that only imitates agrees on
both halves; one that generalises beyond its supervisor agrees where the supervisor is right and disagrees where it
is wrong, as the ceiling (trained on ground truth) does: the ceiling's row is the reference point."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from w2s.analysis.summary import sem
from w2s.errors import W2SError
from w2s.records.predictions import hard_answers, on_same_examples, read_predictions

AGREEMENT_SCHEMA = {
    "dataset": pl.String,
    "seed": pl.Int64,
    "weak": pl.String,
    "strong": pl.String,
    "role": pl.String,  # "student" or "ceiling" (the strong model trained on ground truth: the reference)
    "loss": pl.String,
    "chain": pl.String,  # "" for a ceiling, and for a direct student
    "n": pl.Int64,
    "agreement": pl.Float64,
    "n_weak_right": pl.Int64,
    "agreement_weak_right": pl.Float64,
    "n_weak_wrong": pl.Int64,
    "agreement_weak_wrong": pl.Float64,
}


def agreement(model: pl.DataFrame, weak: pl.DataFrame) -> dict:
    """A model's agreement with the weak model's hard answers (a generative task's: the same answer) on the same
    examples (by id), overall and where the weak model was right or wrong; null where a half is empty."""
    joined = on_same_examples(
        model.select("id", hard_answers(model).alias("answer")),
        weak.select(
            "id", hard_answers(weak).alias("weak_answer"), pl.col("correct").alias("weak_right")
        ),
        "the two files",
    )
    same = joined["answer"] == joined["weak_answer"]
    result = {"n": joined.height, "agreement": float(same.mean())}
    for half, rows in (("weak_right", joined["weak_right"]), ("weak_wrong", ~joined["weak_right"])):
        result[f"n_{half}"] = int(rows.sum())
        result[f"agreement_{half}"] = float(same.filter(rows).mean()) if rows.any() else None
    return result


def agreement_table(runs: list[dict]) -> pl.DataFrame:
    """One row per run: each a dict with dataset, seed, weak, strong, role, loss, chain and the paths of its test
    predictions (`predictions`) and of its weak model's (`weak_predictions`)."""
    rows = []
    for run in runs:
        model, weak = (read_predictions(run[key]) for key in ("predictions", "weak_predictions"))
        try:
            scores = agreement(model, weak)
        except W2SError as exc:
            raise W2SError(
                f"{run['predictions']} against {run['weak_predictions']}: {exc}"
            ) from None
        rows.append(
            {
                **{
                    k: run[k]
                    for k in ("dataset", "seed", "weak", "strong", "role", "loss", "chain")
                },
                **scores,
            }
        )
    return pl.DataFrame(rows, schema=AGREEMENT_SCHEMA).sort(
        "dataset", "weak", "strong", "role", "loss", "chain", "seed"
    )


IMITATION_SCHEMA = {
    "dataset": pl.String,
    "weak": pl.String,
    "strong": pl.String,
    "loss": pl.String,
    "chain": pl.String,
    "n_seeds": pl.Int64,
    "imitation_mean": pl.Float64,
    "imitation_sem": pl.Float64,
    "ceiling_imitation_mean": pl.Float64,
}


def imitation_by_cell(table: pl.DataFrame) -> pl.DataFrame:
    """Per student cell (dataset, weak, strong, loss, chain): its imitation, the agreement with its supervisor
    where the supervisor is wrong, as a mean over seeds with its s.e.m., beside the ceiling's (the same strong
    model trained on ground truth, against the same supervisor): the agreement that no imitation at all gives."""
    pair = ["dataset", "weak", "strong"]
    students = (
        table.filter(pl.col("role") == "student")
        .group_by(*pair, "loss", "chain")
        .agg(
            pl.len().cast(pl.Int64).alias("n_seeds"),
            pl.col("agreement_weak_wrong").mean().alias("imitation_mean"),
            sem("agreement_weak_wrong").alias("imitation_sem"),
        )
    )
    ceilings = (
        table.filter(pl.col("role") == "ceiling")
        .group_by(pair)
        .agg(pl.col("agreement_weak_wrong").mean().alias("ceiling_imitation_mean"))
    )
    return (
        students.join(ceilings, on=pair, how="left")
        .select(*IMITATION_SCHEMA)
        .cast(IMITATION_SCHEMA)
        .sort("dataset", "weak", "strong", "loss", "chain")
    )


CELL = ("dataset", "weak", "strong", "loss", "chain")


def imitation_lookup(imitation: pl.DataFrame) -> Callable[[dict], dict | None]:
    """For a summary row (aggregate.csv), its row of `imitation_by_cell` where the agreement analysis compared it:
    final models only, so an early-stopped pick has none."""
    rows = {tuple(r[k] for k in CELL): r for r in imitation.iter_rows(named=True)}

    def lookup(row: dict) -> dict | None:
        if row["early_stopping"] != "none":
            return None
        return rows.get(tuple(row[k] for k in CELL))

    return lookup
