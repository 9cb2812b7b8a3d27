"""The trajectories analysis on hand-written trajectories with known answers."""

from __future__ import annotations

import json

import polars as pl
import pytest

from w2s.analysis.analysis_plots import plot_trajectories
from w2s.analysis.trajectories import evaluations, trajectory_table
from w2s.errors import W2SError


def write_trajectory(path, entries: list[dict]) -> str:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return str(path)


LOG = {"loss": 0.5, "lr": 1e-4, "steps_per_s": 3.0}


def student_trajectory(tmp_path, name: str, agreements: list[float]) -> str:
    """Evaluations at steps 10, 20 and the end (30), with log points in between; agreement as given."""
    entries = [{"step": 5, **LOG, "train_agreement": 0.5}]
    for step, agree in zip((10, 20), agreements):
        entries.append({"step": step, **LOG, "train_agreement": 0.6, "test_accuracy": 1 - agree,
                        "test_auroc": 0.5, "test_agreement": agree})
    entries += [{"step": 30, **LOG, "train_agreement": 0.9},
                {"step": 30, "epoch": 2.0, "test_accuracy": 1 - agreements[2], "test_auroc": 0.5,
                 "test_agreement": agreements[2]}]
    return write_trajectory(tmp_path / f"{name}.jsonl", entries)


def test_evaluations_carry_progress_and_the_end_takes_its_log_point(tmp_path):
    path = student_trajectory(tmp_path, "a", [0.7, 0.8, 0.9])
    points = evaluations([json.loads(line) for line in open(path)], path)
    assert [p["step"] for p in points] == [10, 20, 30]
    assert [p["progress"] for p in points] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert [p["test_agreement"] for p in points] == [0.7, 0.8, 0.9]
    assert [p["train_agreement"] for p in points] == [0.6, 0.6, 0.9]  # the end's from the log point of step 30
    assert all(p["val_agreement"] is None for p in points)


def test_a_trajectory_without_evaluations_is_refused_by_name(tmp_path):
    path = write_trajectory(tmp_path / "t.jsonl", [{"step": 5, **LOG}])
    with pytest.raises(W2SError, match="t.jsonl has no evaluation"):
        trajectory_table([{"dataset": "d", "seed": 0, "weak": "w", "strong": "s", "run": "student", "loss": "xent",
                           "chain": "", "trajectory": path}])
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(W2SError, match="bad.jsonl: not a readable trajectory"):
        trajectory_table([{"dataset": "d", "seed": 0, "weak": "w", "strong": "s", "run": "student", "loss": "xent",
                           "chain": "", "trajectory": str(tmp_path / "bad.jsonl")}])


def test_the_table_and_plot_from_several_runs(tmp_path):
    runs = [{"dataset": "d", "seed": seed, "weak": "w", "strong": "s", "run": "student", "loss": "xent", "chain": "",
             "trajectory": student_trajectory(tmp_path, f"s{seed}", [0.7, 0.8, 0.9 + seed / 100])}
            for seed in (0, 1)]
    runs.append({"dataset": "d", "seed": 0, "weak": "w", "strong": "s", "run": "ceiling", "loss": "", "chain": "",
                 "trajectory": write_trajectory(tmp_path / "c.jsonl", [
                     {"step": 30, **LOG, "train_agreement": 1.0},
                     {"step": 30, "epoch": 1.0, "test_accuracy": 0.95, "test_auroc": 0.99}])})
    table = trajectory_table(runs)
    assert table.height == 7
    ends = table.filter((pl.col("run") == "student") & (pl.col("step") == 30)).sort("seed")
    assert ends["test_agreement"].to_list() == [0.9, 0.91] and ends["test_accuracy"].to_list() == pytest.approx(
        [0.1, 0.09])
    assert table.filter(pl.col("run") == "ceiling")["test_agreement"].to_list() == [None]
    plot_trajectories(table, "d", ["w", "s"], tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(W2SError, match="no trajectory rows for dataset 'other'"):
        plot_trajectories(table, "other", ["w", "s"], tmp_path / "o.png")
