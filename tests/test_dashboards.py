"""Dashboards: TensorBoard event files and an offline W&B run mirror each run's trajectory, read back here; changing
them reruns nothing."""

from __future__ import annotations

import json

import pytest
from snakemake_helpers import job_stats, snakemake, tiny_config, write_config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from w2s.training.dashboards import TensorBoard
from w2s.training.trajectory import Trajectory

CEILING = "results/ceiling/toy/seed0/strongling"


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(folder))
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


@pytest.mark.workflow
def test_runs_mirror_their_trajectory_to_tensorboard_and_wandb(tmp_path):
    config = tiny_config(
        logging={"tensorboard": True, "wandb": {"project": "w2s-test", "mode": "offline"}}
    )
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2", f"{CEILING}/metrics.json")
    run = tmp_path / CEILING
    trajectory = [json.loads(line) for line in (run / "trajectory.jsonl").read_text().splitlines()]

    logged = scalars(run / "tensorboard")
    assert {"loss", "lr", "train_agreement", "test_accuracy", "test_auroc"} <= set(logged)
    assert "test_answers" not in logged  # packed answers stay in the jsonl
    for key in ("loss", "test_accuracy"):
        expected = [(e["step"], e[key]) for e in trajectory if e.get(key) is not None]
        assert [step for step, _ in logged[key]] == [step for step, _ in expected]
        assert [value for _, value in logged[key]] == pytest.approx(
            [value for _, value in expected], rel=1e-6
        )

    # The W&B run is written offline under the run's folder; its records hold every key and the final accuracy.
    (record,) = run.glob("wandb/offline-run-*/run-*.wandb")
    data = record.read_bytes()
    final = json.loads((run / "metrics.json").read_text())["accuracy"]
    assert all(
        key.encode() in data for key in ("loss", "test_accuracy", "train_agreement", "strongling")
    )
    assert json.dumps(final).encode() in data

    # How a run reports is not what it computes: dropping the dashboards plans nothing.
    config.pop("logging")
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--dry-run", "--cores", "1", f"{CEILING}/metrics.json")
    assert job_stats(result.stdout + result.stderr) == {}


def test_a_resumed_run_writes_its_earlier_points_again(tmp_path):
    earlier = [{"step": 1, "loss": 0.7}, {"step": 2, "loss": 0.6, "test_answers": "ff"}]
    with Trajectory(None, list(earlier), [TensorBoard(tmp_path)]) as trajectory:
        trajectory.record({"step": 3, "loss": 0.5, "test_accuracy": 0.75, "train_agreement": None})
    with Trajectory(
        None, list(earlier), [TensorBoard(tmp_path)]
    ):  # a second attempt from the same state
        pass
    assert scalars(tmp_path / "tensorboard") == {
        "loss": [(1, pytest.approx(0.7)), (2, pytest.approx(0.6))]
    }
