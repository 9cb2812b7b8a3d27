"""Calibration: does a model's p(label = 1) match how often the label is 1? Two expected calibration errors, and the
per-bin numbers a reliability diagram draws, for weak, ceiling and student test predictions and for the weak labels
themselves (the weak model's p(1) on strong_train, against its ground truth). `ece_top_label` is the one papers
report (Guo et al. 2017): over equal bins of the confidence max(p, 1 - p), |accuracy - confidence|. `ece_p1` is over
equal bins of p(1), |share of label 1 - p(1)|: it also sees a model whose confidence is right on average over both
classes but wrong on each (0.05 against 0.00 for the top label in the test of that case). For a generative task
both are over bins of the answer's probability against whether it is right (p(1) and label 1 read "the answer's
probability" and "right")."""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.records.predictions import confidence_view, is_answer_table, read_predictions

BINS = 10
CALIBRATION_SCHEMA = {
    "dataset": pl.String,
    "seed": pl.Int64,
    "model": pl.String,
    "role": pl.String,  # weak, ceiling, student, or weak_labels (the weak model's labels of strong_train)
    "weak": pl.String,
    "loss": pl.String,
    "chain": pl.String,  # "" where they do not apply
    "n": pl.Int64,
    "ece_top_label": pl.Float64,
    "ece_p1": pl.Float64,
    "accuracy": pl.Float64,
    "mean_p1": pl.Float64,
    "share_label_1": pl.Float64,
}


def reliability(p1: np.ndarray, labels: np.ndarray, bins: int = BINS) -> pl.DataFrame:
    """Per bin of p(1) (equal width; 1.0 in the last bin): examples, mean p(1) and share of label 1."""
    index = np.clip(np.floor(np.asarray(p1) * bins).astype(int), 0, bins - 1)
    frame = pl.DataFrame(
        {"bin": index, "p1": np.asarray(p1, dtype=float), "label": np.asarray(labels, dtype=float)}
    )
    return (
        frame.group_by("bin")
        .agg(
            pl.len().alias("n"),
            pl.col("p1").mean().alias("mean_p1"),
            pl.col("label").mean().alias("share_label_1"),
        )
        .sort("bin")
    )


def ece(p1: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error over bins of p(1): the example-weighted mean over bins of |mean p(1) - share of
    label 1|."""
    table = reliability(p1, labels, bins)
    weights = table["n"].to_numpy() / len(p1)
    return float(
        np.sum(weights * np.abs(table["mean_p1"].to_numpy() - table["share_label_1"].to_numpy()))
    )


def top_label_ece(p1: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error of the predicted class: over equal bins of the confidence max(p, 1 - p), the
    example-weighted mean of |accuracy - mean confidence| (the same binning as `ece`: the confidences fill the upper
    half of the bins)."""
    p1, labels = np.asarray(p1, dtype=float), np.asarray(labels)
    confidence = np.maximum(p1, 1 - p1)
    correct = ((p1 > 0.5).astype(int) == labels).astype(float)
    return ece(confidence, correct, bins)


def calibration_table(runs: list[dict]) -> pl.DataFrame:
    """One row per predictions file: each run a dict with dataset, seed, model, role, weak, loss, chain and the
    file's path (`predictions`)."""
    rows = []
    for run in runs:
        table = read_predictions(run["predictions"])
        p1, labels = confidence_view(table)
        rows.append(
            {
                **{
                    k: run[k] for k in ("dataset", "seed", "model", "role", "weak", "loss", "chain")
                },
                "n": len(p1),
                "ece_top_label": ece(p1, labels)
                if is_answer_table(table)
                else top_label_ece(p1, labels),
                "ece_p1": ece(p1, labels),
                "accuracy": float(table["correct"].mean()),
                "mean_p1": float(p1.mean()),
                "share_label_1": float(labels.mean()),
            }
        )
    return pl.DataFrame(rows, schema=CALIBRATION_SCHEMA).sort(
        "dataset", "role", "model", "weak", "loss", "chain", "seed"
    )


def pooled_reliability(runs: list[dict]) -> pl.DataFrame:
    """Reliability per bin for each (dataset, run, model, weak, loss, chain), with the seeds' predictions pooled:
    what the reliability diagrams draw."""
    frames = []
    for run in runs:
        p1, labels = confidence_view(read_predictions(run["predictions"]))
        frames.append(
            pl.DataFrame({"soft_label": p1, "label": labels}).with_columns(
                *(
                    pl.lit(run[k]).alias(k)
                    for k in ("dataset", "role", "model", "weak", "loss", "chain")
                )
            )
        )
    keys = ["dataset", "role", "model", "weak", "loss", "chain"]
    pooled = []
    for key, group in pl.concat(frames).group_by(keys, maintain_order=True):
        bins = reliability(group["soft_label"].to_numpy(), group["label"].to_numpy())
        pooled.append(
            bins.with_columns(*(pl.lit(v).alias(k) for k, v in zip(keys, key, strict=True)))
        )
    return pl.concat(pooled)
