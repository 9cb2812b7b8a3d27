"""Early stopping: the validation split, the evaluation each method picks, and the whole workflow with it on."""

from __future__ import annotations

import json

import polars as pl
import pytest
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config

from w2s.analysis.early_stops import early_stops
from w2s.data.sources import SyntheticSentimentSource
from w2s.data.splits import sample_splits, validation_split
from w2s.errors import W2SError
from w2s.io import write_parquet
from w2s.jobs.run import label_split
from w2s.version import checkpoint_sha256

pytestmark = pytest.mark.workflow

INFO = {"dataset": "d", "seed": 0, "role": "student", "model": "l", "weak": "s", "loss": "xent"}
# A known trajectory: log lines without evaluations, the weak-label agreement peaking at step 20 (tied at 40), the
# test accuracy at step 30.
TRAJECTORY = [
    {"step": 5, "loss": 0.7},
    {"step": 10, "loss": 0.6, "test_accuracy": 0.60, "test_auroc": 0.65, "val_agreement": 0.70},
    {"step": 20, "loss": 0.5, "test_accuracy": 0.62, "test_auroc": 0.66, "val_agreement": 0.90},
    {"step": 30, "loss": 0.4, "test_accuracy": 0.71, "test_auroc": 0.75, "val_agreement": 0.80},
    {"step": 40, "epoch": 2.0, "test_accuracy": 0.64, "test_auroc": 0.70, "val_agreement": 0.90},
]


def test_each_method_picks_its_evaluation():
    weak_val, oracle = early_stops(TRAJECTORY, "weak_val", INFO, 100)
    assert weak_val == {
        **INFO,
        "early_stopping": "weak_val",
        "step": 20,
        "val_agreement": 0.90,
        "accuracy": 0.62,
        "auroc": 0.66,
        "n": 100,
    }  # the earliest of the tied best
    assert (oracle["early_stopping"], oracle["step"], oracle["accuracy"]) == ("oracle", 30, 0.71)
    assert [r["early_stopping"] for r in early_stops(TRAJECTORY, "oracle", INFO, 100)] == ["oracle"]
    assert early_stops(TRAJECTORY, "none", INFO, 100) == []


def test_weak_val_without_validation_evaluations_is_an_error():
    with pytest.raises(W2SError, match="no evaluation with val_agreement"):
        early_stops(
            [{k: v for k, v in e.items() if k != "val_agreement"} for e in TRAJECTORY],
            "weak_val",
            INFO,
            9,
        )


ENTRY = {"n_weak_train": 40, "n_strong_train": 40, "n_test": 30, "n_validation": 21}


def test_the_validation_split_is_disjoint_balanced_and_leaves_the_others_alone(tmp_path):
    source = SyntheticSentimentSource(n_rows=2000, length=6)
    three, _ = sample_splits(
        source, "d", {s: ENTRY[f"n_{s}"] for s in ("weak_train", "strong_train", "test")}, 3
    )
    paths = []
    for name, frame in three.items():
        write_parquet(frame, tmp_path / f"{name}.parquet")
        paths.append(tmp_path / f"{name}.parquet")
    validation = validation_split(source, "d", ENTRY, 3, paths)
    assert validation.height == 21 and validation["label"].sum() == 11
    assert not set(validation["id"]) & {i for frame in three.values() for i in frame["id"]}
    assert not set(validation["text"]) & {t for frame in three.values() for t in frame["text"]}
    # splits drawn by other settings (another seed here) would not be disjoint from it: refused
    with pytest.raises(
        W2SError, match="is not the weak_train split that dataset d's seed 4 draws now"
    ):
        validation_split(source, "d", ENTRY, 4, paths)


def early_stopping_config(setting: str) -> dict:
    config = tiny_config()
    config["datasets"]["toy"]["n_validation"] = 16
    config["training"].update(eval_every=1, early_stopping=setting)
    return config


def test_early_stopping_end_to_end_and_turning_it_on_reruns_only_training(tmp_path):
    write_config(tmp_path, early_stopping_config("none"))
    snakemake(tmp_path, "--cores", "2")
    write_config(tmp_path, early_stopping_config("weak_val"))
    planned = planned_jobs(tmp_path)
    assert (
        "split_dataset" not in planned and "build_base_model" not in planned
    )  # nothing upstream reruns
    assert planned["split_validation"] == 1 and planned["label_validation"] == 1
    # the weak model and its labels stay: every row's weak baseline is the final model that wrote them
    assert (
        "train_weak" not in planned
        and planned["train_ceiling"] == 1
        and planned["train_student"] == 2
    )
    snakemake(tmp_path, "--cores", "2")

    data = tmp_path / "results/data/toy/seed0"
    validation = pl.read_parquet(data / "validation.parquet")
    others = {
        i
        for split in ("weak_train", "strong_train", "test")
        for i in pl.read_parquet(data / f"{split}.parquet")["id"]
    }
    assert validation.height == 16 and not set(validation["id"]) & others
    labels = tmp_path / "results/labels/toy/seed0/validation/weakling.parquet"
    assert pl.read_parquet_metadata(labels)["split"] == "validation"
    assert pl.read_parquet(labels)["id"].to_list() == validation["id"].to_list()

    student = tmp_path / "results/student/toy/seed0/weakling/strongling/xent"
    trajectory = [
        json.loads(line) for line in (student / "trajectory.jsonl").read_text().splitlines()
    ]
    evaluations = [e for e in trajectory if "test_accuracy" in e]
    assert len(evaluations) == 3 and all(
        "val_agreement" in e for e in evaluations
    )  # 3 steps, eval every step
    stops = {
        r["early_stopping"]: r for r in json.loads((student / "early_stopping.json").read_text())
    }
    assert stops["oracle"]["accuracy"] == max(e["test_accuracy"] for e in evaluations)
    assert stops["weak_val"]["val_agreement"] == max(e["val_agreement"] for e in evaluations)
    # the weak_val stop is kept as a model, with the test predictions it made
    kept = student / "early_stop_weak_val"
    assert (kept / "checkpoint/model.safetensors").exists() and not (
        student / "early_stop_weak_val.partial"
    ).exists()
    kept_predictions = pl.read_parquet(kept / "test_predictions.parquet")
    assert kept_predictions["correct"].mean() == stops["weak_val"]["accuracy"]
    again = label_split(
        kept / "checkpoint",
        data / "test.parquet",
        tmp_path / "again.parquet",
        {
            "dtype": "float32",
            "trust_remote_code": False,
            "max_length": 48,
            "predict_batch_size": 64,
            "autocast": "off",
        },
        {"split": "test"},
        threads=1,
    )
    assert (
        again["soft_label"] - kept_predictions["soft_label"]
    ).abs().max() < 1e-5  # the model that made them

    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert sorted(runs["early_stopping"]) == [
        "none",
        "none",
        "oracle",
        "oracle",
        "weak_val",
        "weak_val",
    ]
    final = json.loads((student / "metrics.json").read_text())["accuracy"]
    row = runs.filter((pl.col("loss") == "xent") & (pl.col("early_stopping") == "oracle")).row(
        0, named=True
    )
    assert row["student_acc"] == stops["oracle"]["accuracy"] >= final
    weak = tmp_path / "results/weak/toy/seed0/weakling"
    assert (
        not (weak / "early_stopping.json").exists() and not (weak / "early_stop_weak_val").exists()
    )
    labeller = json.loads((weak / "metrics.json").read_text())[
        "accuracy"
    ]  # the checkpoint that wrote the labels
    assert pl.read_parquet_metadata(labels)["checkpoint_sha256"] == checkpoint_sha256(
        weak / "checkpoint"
    )
    assert runs["weak_acc"].to_list() == [labeller] * 6  # every row, early stopped or not
    ceiling_stops = json.loads(
        (tmp_path / "results/ceiling/toy/seed0/strongling/early_stopping.json").read_text()
    )
    assert row["ceiling_acc"] == next(
        r["accuracy"] for r in ceiling_stops if r["early_stopping"] == "oracle"
    )
