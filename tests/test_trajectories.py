"""The trajectories analysis on hand-written trajectories and predictions with known answers."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from w2s.analysis.analysis_plots import plot_trajectories
from w2s.analysis.trajectories import evaluations, pack_answers, trajectory_table, unpack_answers
from w2s.errors import W2SError
from w2s.io import write_parquet
from w2s.records.predictions import prediction_table

LOG = {"loss": 0.5, "lr": 1e-4, "steps_per_s": 3.0}
LABELS = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0]  # ground truth of a 10-example test split
WEAK = [0, 1, 1, 0, 1, 1, 1, 0, 1, 0]  # the weak model: wrong on examples 5, 6, 7


def write_trajectory(path, entries: list[dict]) -> str:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return str(path)


def write_predictions(path, answers: list[int], order=range(10)) -> str:
    """Predictions of the test split (rows in `order`) whose hard answers are `answers` (by example)."""
    order = list(order)
    frame = pl.DataFrame(
        {
            "id": [f"e{i}" for i in order],
            "text": [f"text {i}" for i in order],
            "label": [LABELS[i] for i in order],
        }
    )
    write_parquet(
        prediction_table(frame, np.array([0.9 if answers[i] else 0.1 for i in order])), path
    )
    return str(path)


def evaluation(step: int, answers: list[int], **extra) -> dict:
    accuracy = float(np.mean(np.array(answers) == np.array(LABELS)))
    return {
        "step": step,
        "test_accuracy": accuracy,
        "test_auroc": 0.5,
        "test_answers": pack_answers(np.array(answers, dtype=float)),
        **extra,
    }


def test_answers_survive_packing():
    answers = np.random.default_rng(0).integers(0, 2, size=1001)
    text = pack_answers(answers.astype(float))
    assert len(text) == 2 * 126 and (unpack_answers(text, 1001) == answers).all()


def test_evaluations_carry_progress_agreement_and_the_end_takes_its_log_point():
    copying = WEAK  # agreement 1.0
    truthful = LABELS  # agreement 0.7: disagrees where the weak model is wrong
    trajectory = [
        {"step": 5, **LOG, "train_agreement": 0.5},
        {"step": 10, **LOG, "train_agreement": 0.6, **evaluation(10, truthful)},
        {"step": 20, **LOG, "train_agreement": 0.8, **evaluation(20, copying)},
        {"step": 20, **LOG, "train_agreement": 0.9},
        {"step": 20, "epoch": 2.0, **evaluation(20, copying)},
    ]
    points = evaluations(trajectory, "t.jsonl", np.array(WEAK, dtype=np.int8))
    assert [p["step"] for p in points] == [10, 20, 20]
    assert [p["progress"] for p in points] == [0.5, 1.0, 1.0]
    assert [p["test_agreement"] for p in points] == pytest.approx([0.7, 1.0, 1.0])
    assert [p["test_accuracy"] for p in points] == pytest.approx([1.0, 0.7, 0.7])
    assert [p["train_agreement"] for p in points] == [
        0.6,
        0.8,
        0.9,
    ]  # the end's from its own log point
    assert all(p["val_agreement"] is None for p in points)


def test_a_trajectory_without_evaluations_or_unreadable_is_refused_by_name(tmp_path):
    run = {
        "dataset": "d",
        "seed": 0,
        "weak": "w",
        "strong": "s",
        "role": "student",
        "loss": "xent",
        "chain": "",
        "predictions": write_predictions(tmp_path / "s.parquet", LABELS),
        "weak_predictions": write_predictions(tmp_path / "w.parquet", WEAK),
    }
    with pytest.raises(W2SError, match="t.jsonl has no evaluation"):
        trajectory_table(
            [{**run, "trajectory": write_trajectory(tmp_path / "t.jsonl", [{"step": 5, **LOG}])}]
        )
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(W2SError, match="bad.jsonl: not a readable trajectory"):
        trajectory_table([{**run, "trajectory": str(tmp_path / "bad.jsonl")}])
    other = write_predictions(tmp_path / "o.parquet", WEAK, order=range(9))
    with pytest.raises(
        W2SError,
        match=r"s\.parquet and .*o\.parquet predict different examples "
        r"\(10 and 9 rows, 9 shared ids\)",
    ):
        trajectory_table(
            [{**run, "weak_predictions": other, "trajectory": str(tmp_path / "t.jsonl")}]
        )


def test_the_table_follows_the_runs_row_order_and_plots(tmp_path):
    """The weak predictions are stored in another row order than the run's: agreement is by example id."""
    weak = write_predictions(tmp_path / "weak.parquet", WEAK, order=reversed(range(10)))
    runs = []
    for seed, final in ((0, WEAK), (1, LABELS)):
        runs.append(
            {
                "dataset": "d",
                "seed": seed,
                "weak": "w",
                "strong": "s",
                "role": "student",
                "loss": "xent",
                "chain": "",
                "predictions": write_predictions(tmp_path / f"s{seed}.parquet", final),
                "weak_predictions": weak,
                "trajectory": write_trajectory(
                    tmp_path / f"s{seed}.jsonl",
                    [
                        {"step": 10, **LOG, "train_agreement": 0.6, **evaluation(10, LABELS)},
                        {"step": 20, **LOG, "train_agreement": 0.9},
                        evaluation(20, final),
                    ],
                ),
            }
        )
    runs.append(
        {
            **runs[1],
            "seed": 0,
            "role": "ceiling",
            "loss": "",
            "trajectory": write_trajectory(
                tmp_path / "c.jsonl",
                [{"step": 20, **LOG, "train_agreement": 1.0}, evaluation(20, LABELS)],
            ),
        }
    )
    table = trajectory_table(runs)
    assert table.height == 5
    ends = table.filter((pl.col("role") == "student") & (pl.col("step") == 20)).sort("seed")
    assert ends["test_agreement"].to_list() == pytest.approx([1.0, 0.7])
    assert ends["test_accuracy"].to_list() == pytest.approx([0.7, 1.0])
    assert table.filter(pl.col("role") == "ceiling")["test_agreement"].to_list() == pytest.approx(
        [0.7]
    )
    plot_trajectories(table, "d", ["w", "s"], tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(W2SError, match="no trajectory rows for dataset 'other'"):
        plot_trajectories(table, "other", ["w", "s"], tmp_path / "o.png")
