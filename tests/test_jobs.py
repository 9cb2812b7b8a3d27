"""End-to-end tests of the jobs in w2s.jobs.run: finetune a weak model, label a split with it, train a student
on it."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from snakemake_helpers import job_training_params
from tolerance import assert_predictions_close

from w2s.jobs.finetune import finetune
from w2s.jobs.run import label_split
from w2s.models.classifier import Classifier
from w2s.records.metrics import auroc
from w2s.records.params import PredictionParams
from w2s.records.predictions import PREDICTION_COLUMNS, merge_label_shards
from w2s.version import (
    DIGEST_FILE,
    checkpoint_sha256,
    code_version,
    compute_checkpoint_sha256,
)

MAX_LENGTH = 12


def split(n, offset, flip=()):
    """Texts of 'a's (label 1) or 'b's (label 0) with a varying prefix; a few longer than MAX_LENGTH tokens."""
    rows = []
    for i in range(n):
        label = i % 2
        word = "a" if label else "b"
        text = f"{'xy' * (i % 3)} " + " ".join([word] * (2 + i % 4))
        if i % 5 == 0:
            text = "long preamble that is cut off " + text
        rows.append(
            {"id": f"r{offset + i}", "text": text, "label": 1 - label if i in flip else label}
        )
    return pl.DataFrame(rows)


def training_params(source, seed=0, **settings) -> dict:
    """What w2s.pipeline.rule_params.training_params produces, serialised as a rule hands it to its job."""
    return job_training_params(source, MAX_LENGTH, seed, **settings).to_dict()


# What w2s.pipeline.rule_params.prediction_params produces, serialised.
PREDICTION = PredictionParams(
    dtype="float32",
    trust_remote_code=False,
    max_length=MAX_LENGTH,
    predict_batch_size=7,
    autocast="off",
).to_dict()


def outputs(root):
    return {
        "checkpoint": str(root / "checkpoint"),
        "metrics": str(root / "metrics.json"),
        "predictions": str(root / "test_predictions.parquet"),
        "trajectory": str(root / "trajectory.jsonl"),
        "training": str(root / "training.json"),
    }


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    frames = {
        "weak_train": split(32, 0),
        "strong_train": split(24, 100),
        "test": split(20, 200, flip=(3, 8)),
    }
    for name, frame in frames.items():
        frame.write_parquet(root / f"{name}.parquet")
    return root, frames


@pytest.fixture(scope="module")
def weak_run(tiny_gpt2, data, tmp_path_factory):
    root, _ = data
    out = outputs(tmp_path_factory.mktemp("weak"))
    info = {
        "dataset": "toy",
        "seed": 0,
        "role": "weak",
        "model": "tiny",
        "weak": None,
        "loss": None,
    }
    metrics = finetune(
        params=training_params(tiny_gpt2),
        train_path=root / "weak_train.parquet",
        target_column="label",
        test_path=root / "test.parquet",
        loss_name="xent",
        loss_entry={"type": "xent"},
        out=out,
        info=info,
        threads=1,
    )
    return out, info, metrics


def n_longer(frame):
    return sum(len(t.encode()) > MAX_LENGTH for t in frame["text"])


def check_prediction_table(table, frame):
    assert tuple(table.columns) == PREDICTION_COLUMNS
    assert (
        table["id"].to_list() == frame["id"].to_list()
    )  # input order kept despite length-sorted batches
    assert table["text"].to_list() == frame["text"].to_list()
    assert table["label"].to_list() == frame["label"].to_list()
    soft, hard = table["soft_label"].to_numpy(), table["hard_label"].to_numpy()
    assert np.all((soft >= 0) & (soft <= 1))
    assert np.array_equal(hard, (soft > 0.5).astype(hard.dtype))
    assert np.array_equal(table["correct"].to_numpy(), hard == table["label"].to_numpy())


def test_finetune_outputs(weak_run, data):
    out, info, metrics = weak_run
    _, frames = data
    test = frames["test"]
    for key in ("metrics", "predictions", "trajectory", "training"):
        assert Path(out[key]).is_file(), key
    checkpoint = Path(out["checkpoint"])
    assert {"model.safetensors", "head.safetensors", "config.json", "tokenizer.json"} <= {
        p.name for p in checkpoint.iterdir()
    }
    assert not [
        p for p in checkpoint.parent.iterdir() if p.name.startswith(".")
    ]  # no leftover temporary files

    table = pl.read_parquet(out["predictions"])
    check_prediction_table(table, test)
    # The task is easy and the model learns it; the two flipped test labels are then exactly the errors.
    assert table.filter(~pl.col("correct"))["id"].to_list() == ["r203", "r208"]

    written = json.loads(Path(out["metrics"]).read_text())
    assert written == metrics
    assert {k: written[k] for k in info} == info
    assert written["accuracy"] == pytest.approx(table["correct"].mean())
    assert written["accuracy"] == pytest.approx(18 / 20)
    assert written["auroc"] == pytest.approx(
        auroc(table["soft_label"].to_numpy(), test["label"].to_numpy())
    )
    assert written["n"] == 20 and written["n_train"] == 32
    # the byte tokenizer gives one token per byte
    assert (
        written["n_train_truncated"] == n_longer(frames["weak_train"]) >= 7
    )  # the 7 with the preamble at least
    assert written["n_test_truncated"] == n_longer(test) >= 4
    assert written["steps"] == 4 * math.ceil(32 / 8)
    assert written["code_version"] == code_version()
    training = json.loads(
        Path(out["training"]).read_text()
    )  # what a sharded prediction's scoring job reads
    assert training == {
        k: written[k]
        for k in ("n_train", "n_train_truncated", "steps", "train_seconds", "n_params")
    }
    loaded = Classifier.load(str(checkpoint))
    assert training["n_params"] == sum(
        p.numel() for p in loaded.parameters()
    )  # the scaling view's size

    meta = pl.read_parquet_metadata(out["predictions"])
    assert meta["dataset"] == "toy" and meta["role"] == "weak" and meta["seed"] == "0"
    assert meta["code_version"] == code_version()

    entries = [json.loads(line) for line in Path(out["trajectory"]).read_text().splitlines()]
    evals = [e for e in entries if "test_accuracy" in e]
    assert [e["step"] for e in evals] == [3, 6, 9, 12, 15, 16]
    assert evals[-1]["test_accuracy"] == pytest.approx(
        written["accuracy"]
    )  # final eval = the saved model's score
    losses = [e["loss"] for e in entries if "loss" in e]
    assert losses[-1] < losses[0]


@pytest.mark.kernel_sensitive
def test_label_split(weak_run, data, tmp_path):
    out, _, _ = weak_run
    root, frames = data
    params = PREDICTION
    info = {"dataset": "toy", "seed": 0, "weak_model": "tiny", "split": "strong_train"}
    first = label_split(
        out["checkpoint"],
        root / "strong_train.parquet",
        tmp_path / "labels.parquet",
        params,
        info,
        1,
    )
    second = label_split(
        out["checkpoint"],
        root / "strong_train.parquet",
        tmp_path / "again.parquet",
        params,
        info,
        1,
    )

    table = pl.read_parquet(tmp_path / "labels.parquet")
    assert table.equals(first)
    check_prediction_table(table, frames["strong_train"])
    # The same kernels on the same batches: bit for bit.
    assert np.array_equal(second["soft_label"].to_numpy(), first["soft_label"].to_numpy())
    assert len(np.unique(table["soft_label"].to_numpy())) > 2  # soft labels, not a constant

    meta = pl.read_parquet_metadata(tmp_path / "labels.parquet")
    assert meta["dataset"] == "toy" and meta["weak_model"] == "tiny" and meta["seed"] == "0"
    assert meta["split"] == "strong_train"
    assert meta["checkpoint_sha256"] == checkpoint_sha256(out["checkpoint"])
    assert len(meta["checkpoint_sha256"]) == 64
    # Digested once, where the checkpoint was written: a labelling job takes the record, not the weights again.
    assert (Path(out["checkpoint"]) / DIGEST_FILE).is_file()
    assert compute_checkpoint_sha256(out["checkpoint"]) == meta["checkpoint_sha256"]
    copy = Path(shutil.copytree(out["checkpoint"], tmp_path / "copy"))
    weights = next(copy.glob("*.safetensors"))
    changed = bytearray(weights.read_bytes())
    changed[-1] ^= 1
    weights.write_bytes(changed)  # the same names and sizes: the record stands
    assert checkpoint_sha256(copy) == meta["checkpoint_sha256"]
    weights.write_bytes(changed + b" ")  # another size: no longer the files it was recorded for
    assert checkpoint_sha256(copy) == compute_checkpoint_sha256(copy) != meta["checkpoint_sha256"]
    assert meta["code_version"] == code_version()
    assert meta["n_truncated"] == str(n_longer(frames["strong_train"]))

    # Labelling the test split reproduces finetune's own test predictions: the checkpoint is the trained model.
    test_labels = label_split(
        out["checkpoint"], root / "test.parquet", tmp_path / "test_labels.parquet", params, info, 1
    )
    assert_predictions_close(test_labels, pl.read_parquet(out["predictions"]))


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize("shards", [2, 5])
def test_sharded_labels_merge_into_the_unsharded_file(weak_run, data, tmp_path, shards):
    out, _, _ = weak_run
    root, _ = data
    params = PREDICTION
    info = {"dataset": "toy", "seed": 0, "weak_model": "tiny", "split": "strong_train"}
    whole = label_split(
        out["checkpoint"],
        root / "strong_train.parquet",
        tmp_path / "whole.parquet",
        params,
        info,
        1,
    )
    paths = [tmp_path / f"{shard}-of-{shards}.parquet" for shard in range(shards)]
    for shard, path in enumerate(paths):
        label_split(
            out["checkpoint"], root / "strong_train.parquet", path, params, info, 1, shard, shards
        )
    assert sum(pl.read_parquet(path).height for path in paths) == whole.height
    merged = merge_label_shards(paths, tmp_path / "merged.parquet")
    assert pl.read_parquet(tmp_path / "merged.parquet").equals(merged)
    # A shard's length-sorted batches hold other rows than the whole split's, so they pad to other lengths: equal
    # to float32 rounding, not bit for bit.
    assert_predictions_close(merged, whole)
    meta = pl.read_parquet_metadata(tmp_path / "merged.parquet")
    whole_meta = pl.read_parquet_metadata(tmp_path / "whole.parquet")
    assert {k: meta[k] for k in ("checkpoint_sha256", "n_truncated", "weak_model")} == {
        k: whole_meta[k] for k in ("checkpoint_sha256", "n_truncated", "weak_model")
    }


def test_student_on_weak_labels(tiny_gpt2, weak_run, data, tmp_path):
    """A student trained with logconf on the weak model's soft labels: the whole weak-to-strong chain."""
    out, _, _ = weak_run
    root, frames = data
    labels = tmp_path / "labels.parquet"
    label_split(
        out["checkpoint"],
        root / "strong_train.parquet",
        labels,
        PREDICTION,
        {"dataset": "toy", "seed": 0, "weak_model": "tiny", "split": "strong_train"},
        1,
    )
    (
        tmp_path / "student"
    ).mkdir()  # Snakemake creates output directories before a job runs; finetune does not
    student_out = outputs(tmp_path / "student")
    info = {
        "dataset": "toy",
        "seed": 0,
        "role": "student",
        "model": "tiny",
        "weak": "tiny",
        "loss": "logconf",
    }
    metrics = finetune(
        params=training_params(tiny_gpt2, seed=1, eval_every=0),
        train_path=labels,
        target_column="soft_label",
        test_path=root / "test.parquet",
        loss_name="logconf",
        loss_entry={"type": "logconf", "alpha_max": 0.5, "warmup_frac": 0.2},
        out=student_out,
        info=info,
        threads=1,
    )
    table = pl.read_parquet(student_out["predictions"])
    check_prediction_table(table, frames["test"])
    assert metrics["accuracy"] == pytest.approx(table["correct"].mean())
    assert metrics["loss"] == "logconf" and metrics["weak"] == "tiny" and metrics["n_train"] == 24
    assert metrics["steps"] == 4 * math.ceil(24 / 8)
