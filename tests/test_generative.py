"""Generative finetuning: a model finetuned as a language model on a task's texts, never its labels, that its
classification runs then start from."""

from __future__ import annotations

import json

import polars as pl
import pytest
from safetensors.torch import load_file
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config

from w2s.io import write_parquet
from w2s.training.generative import generative_finetune

pytestmark = pytest.mark.workflow

TEXTS = [f"p{i % 5} w{i % 7} n{i % 3} w{i % 11}" for i in range(24)]


def write_splits(folder, labels: list[int]) -> list:
    paths = []
    for k, split in enumerate(("weak_train", "strong_train", "test")):
        rows = slice(8 * k, 8 * k + 8)
        frame = pl.DataFrame(
            {
                "id": [f"t:{i}" for i in range(24)][rows],
                "text": TEXTS[rows],
                "label": labels[rows],
                "group": ["all"] * 8,
            }
        )
        write_parquet(frame, folder / f"{split}.parquet")
        paths.append(folder / f"{split}.parquet")
    return paths


def test_generative_finetuning_learns_the_texts_and_never_reads_a_label(tiny_gpt2, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    labels = [i % 2 for i in range(24)]
    runs = {
        name: generative_finetune(
            tmp_path / f"{name}_model",
            str(tiny_gpt2),
            write_splits(tmp_path / name, lab),
            steps=6,
            lr=1e-3,
            batch_size=4,
            max_length=32,
            seed=0,
        )
        for name, lab in (("a", labels), ("b", [1 - label for label in labels]))
    }
    assert runs["a"]["n_texts"] == 24 and runs["a"]["steps"] == 6
    base = load_file(tiny_gpt2 / "model.safetensors")
    tuned = {name: load_file(tmp_path / f"{name}_model/model.safetensors") for name in runs}
    assert any(not (tuned["a"][k] == base[k]).all() for k in base)  # it learnt something
    # flipping every label changes nothing: byte-identical weights
    weights = [(tmp_path / f"{name}_model/model.safetensors").read_bytes() for name in runs]
    assert weights[0] == weights[1]


def test_generative_finetuning_caps_max_length_at_the_context_window(tiny_gpt2, tmp_path):
    long = tmp_path / "long.parquet"
    write_parquet(
        pl.DataFrame({"id": ["t:0", "t:1"], "text": ["ab " * 100, "cd"], "label": [0, 1]}), long
    )
    run = generative_finetune(
        tmp_path / "model",
        str(tiny_gpt2),
        [long],
        steps=2,
        lr=1e-3,
        batch_size=2,
        max_length=1000,
        seed=0,
    )  # 300 bytes in a 128-token window
    assert (run["max_length"], run["n_truncated"]) == (128, 1)


def test_runs_of_a_generatively_finetuned_model_start_from_it(tmp_path):
    config = tiny_config(
        pairs=[
            {"weak": "weakling", "strong": "strongling"},
            {"weak": "weakling", "strong": "strongling_gen"},
        ]
    )
    config["models"]["strongling_gen"] = {
        **config["models"]["strongling"],
        "generative_finetune": {"steps": 4, "lr": 1e-3, "batch_size": 8},
    }
    config["losses"] = {"xent": {"type": "xent"}}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    tuned = load_file(tmp_path / "results/generative/toy/seed0/strongling_gen/model.safetensors")
    base = load_file(tmp_path / "results/base_models/strongling_gen/model.safetensors")
    plain = load_file(tmp_path / "results/base_models/strongling/model.safetensors")
    assert all((base[k] == plain[k]).all() for k in plain)  # the same model, declared twice
    assert any(
        not (tuned[k] == base[k]).all() for k in base
    )  # generative finetuning moved its weights
    log = (tmp_path / "logs/ceiling/toy/seed0/strongling_gen.log").read_text()
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert dict(zip(runs["strong"], runs["generative"])) == {
        "strongling": False,
        "strongling_gen": True,
    }
    assert "model results/generative/toy/seed0/strongling_gen: 48 training examples" in log
    student_log = (tmp_path / "logs/student/toy/seed0/weakling/strongling_gen/xent.log").read_text()
    assert "model results/generative/toy/seed0/strongling_gen: " in student_log
    # the texts of the training splits only, so no model sees the test inputs before it is scored on them
    generative_log = (tmp_path / "logs/generative/toy/seed0/strongling_gen.log").read_text()
    assert "on 96 texts of 2 splits" in generative_log
    # the ceiling it is compared with is the adjusted one: finetuned from the same generatively finetuned model
    row = runs.filter(pl.col("generative")).row(0, named=True)
    ceiling = json.loads(
        (tmp_path / "results/ceiling/toy/seed0/strongling_gen/metrics.json").read_text()
    )
    assert row["ceiling_acc"] == ceiling["accuracy"] and ceiling.get("generative") is True

    # test texts are an explicit opt-in, which reruns the generative finetuning and what starts from it
    config["models"]["strongling_gen"]["generative_finetune"]["splits"] = [
        "weak_train",
        "strong_train",
        "test",
    ]
    write_config(tmp_path, config)
    planned = planned_jobs(tmp_path)
    assert (
        planned["generative_finetune"] == 1
        and planned["train_ceiling"] == 1
        and "train_weak" not in planned
    )
    snakemake(tmp_path, "--cores", "2")
    assert (
        "on 128 texts of 3 splits"
        in (tmp_path / "logs/generative/toy/seed0/strongling_gen.log").read_text()
    )
