"""Overfitting to weak labels over training: at each evaluation of a student, its test accuracy, its agreement with
its weak model's answers on the test split, and its agreement with its training labels (the paper's "early stopping
would help" picture: a student that first generalises beyond its supervisor and then learns its errors climbs in
agreement while its accuracy falls). Ceilings come along as the reference.

Each evaluation records the run's test answers in its trajectory (`test_answers`: the hard answers, in the test
split's row order, packed into hex), so agreement with any model is computed here, after training, from files that
a resumed run keeps too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from w2s.errors import W2SError
from w2s.io import REMAKE
from w2s.records.predictions import hard_answers, on_same_examples, read_predictions

TRAJECTORY_SCHEMA = {
    "dataset": pl.String,
    "seed": pl.Int64,
    "weak": pl.String,
    "strong": pl.String,
    "role": pl.String,  # "student" or "ceiling"
    "loss": pl.String,
    "chain": pl.String,
    "step": pl.Int64,
    "progress": pl.Float64,  # step / the run's last step: runs of different lengths on one axis
    "test_accuracy": pl.Float64,
    # with the weak model's answers on the test split (a chain's first model); null for a trajectory written before
    # evaluations recorded their answers
    "test_agreement": pl.Float64,
    # with the run's training labels (hard), on the batches trained since the previous point, before each update
    "train_agreement": pl.Float64,
    "val_agreement": pl.Float64,  # with its supervision on the validation split (only with early stopping)
}


def pack_answers(p1: np.ndarray) -> str:
    """Hard answers (p(1) > 0.5) as hex, 4 examples a character."""
    return np.packbits(np.asarray(p1) > 0.5).tobytes().hex()


def unpack_answers(packed: str | list, n: int) -> np.ndarray:
    if isinstance(packed, list):  # a generative task's answers, stored as they are
        return np.asarray(packed, dtype=object)
    return np.unpackbits(np.frombuffer(bytes.fromhex(packed), dtype=np.uint8))[:n].astype(np.int8)


def read_trajectory(path) -> list[dict]:
    try:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise W2SError(f"{path}: not a readable trajectory ({exc}); {REMAKE}") from None


def evaluations(trajectory: list[dict], path, weak_answers: np.ndarray | None = None) -> list[dict]:
    """The evaluation points of a trajectory (those with a test accuracy), each with its progress through the run
    and, given the weak model's answers in the run's test order, its agreement with them."""
    points = [entry for entry in trajectory if "test_accuracy" in entry]
    if not points:
        raise W2SError(
            f"{path} has no evaluation (no entry with test_accuracy): the run evaluates every "
            "training.eval_every steps; set it to a number of steps smaller than the run's"
        )
    last = max(entry["step"] for entry in trajectory)
    # The end's evaluation is an entry of its own, after the log point of the same step that holds train_agreement.
    logged = {entry["step"]: entry for entry in trajectory if "test_accuracy" not in entry}
    rows = []
    for point in points:
        agreement = None
        if weak_answers is not None and "test_answers" in point:
            agreement = float(
                (unpack_answers(point["test_answers"], len(weak_answers)) == weak_answers).mean()
            )
        rows.append(
            {
                "step": point["step"],
                "progress": point["step"] / last,
                "test_accuracy": point["test_accuracy"],
                "test_agreement": agreement,
                **{
                    m: point.get(m, logged.get(point["step"], {}).get(m))
                    for m in ("train_agreement", "val_agreement")
                },
            }
        )
    return rows


def weak_answers_in_order(run: dict) -> np.ndarray:
    """The weak model's hard answers on the test split, in the row order of the run's own test predictions (the
    order its trajectory's answers are in)."""
    own, weak = (read_predictions(run[key]) for key in ("predictions", "weak_predictions"))
    joined = on_same_examples(
        own.select("id"),
        weak.select("id", hard_answers(weak).alias("answer")),
        f"{run['predictions']} and {run['weak_predictions']}",
    )
    if joined.schema["answer"] == pl.Utf8:
        return joined["answer"].to_numpy().astype(object)
    return joined["answer"].to_numpy().astype(np.int8)


def trajectory_table(runs: list[dict]) -> pl.DataFrame:
    """One row per evaluation of each run: dicts with dataset, seed, weak, strong, role, loss, chain and the paths of
    its `trajectory`, its test `predictions` and its weak model's (`weak_predictions`)."""
    rows = []
    for run in runs:
        fields = {k: run[k] for k in ("dataset", "seed", "weak", "strong", "role", "loss", "chain")}
        rows += [
            {**fields, **point}
            for point in evaluations(
                read_trajectory(run["trajectory"]), run["trajectory"], weak_answers_in_order(run)
            )
        ]
    return pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA).sort(
        "dataset", "weak", "strong", "role", "loss", "chain", "seed", "step"
    )
