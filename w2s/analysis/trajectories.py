"""Overfitting to weak labels over training: at each evaluation of a student, its test accuracy, its agreement with
its supervisor's answers on the test split, and its agreement with its training labels (the paper's "early stopping
would help" picture: a student that first generalises beyond its supervisor and then learns its errors climbs in
agreement while its accuracy falls). Ceilings come along as the reference."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from w2s.errors import W2SError
from w2s.io import REMAKE

TRAJECTORY_SCHEMA = {
    "dataset": pl.String, "seed": pl.Int64, "weak": pl.String, "strong": pl.String,
    "run": pl.String,  # "student" or "ceiling"
    "loss": pl.String, "chain": pl.String,
    "step": pl.Int64,
    "progress": pl.Float64,  # step / the run's last step: runs of different lengths on one axis
    "test_accuracy": pl.Float64,
    "test_agreement": pl.Float64,  # with the supervisor's test answers (null for a ceiling: it has none)
    # with the run's training labels (hard), on the batches trained since the previous point, before each update
    "train_agreement": pl.Float64,
    "val_agreement": pl.Float64,  # with its supervision on the validation split (only with early stopping)
}
MEASURES = ("test_accuracy", "test_agreement", "train_agreement", "val_agreement")


def read_trajectory(path) -> list[dict]:
    try:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise W2SError(f"{path}: not a readable trajectory ({exc}); {REMAKE}") from None


def evaluations(trajectory: list[dict], path) -> list[dict]:
    """The evaluation points of a trajectory (those with a test accuracy), each with its progress through the run."""
    points = [entry for entry in trajectory if "test_accuracy" in entry]
    if not points:
        raise W2SError(f"{path} has no evaluation (no entry with test_accuracy): the run evaluates every "
                       "training.eval_every steps; set it to a number of steps smaller than the run's")
    last = max(entry["step"] for entry in trajectory)
    # The end's evaluation is an entry of its own, after the log point of the same step that holds train_agreement.
    logged = {entry["step"]: entry for entry in trajectory if "test_accuracy" not in entry}
    return [{"step": p["step"], "progress": p["step"] / last,
             **{m: p.get(m, logged.get(p["step"], {}).get(m)) for m in MEASURES}} for p in points]


def trajectory_table(runs: list[dict]) -> pl.DataFrame:
    """One row per evaluation of each run: dicts with dataset, seed, weak, strong, run, loss, chain and the path of
    its `trajectory`."""
    rows = []
    for run in runs:
        fields = {k: run[k] for k in ("dataset", "seed", "weak", "strong", "run", "loss", "chain")}
        rows += [{**fields, **point} for point in evaluations(read_trajectory(run["trajectory"]), run["trajectory"])]
    return pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA).sort("dataset", "weak", "strong", "run", "loss", "chain",
                                                             "seed", "step")
