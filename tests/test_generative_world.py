"""A generative world grid end to end with real Snakemake: the world's facts asked as questions, weak labels that are
the weak model's own answers (labelled in shards), a bootstrapping chain (cross-fitted), weak_val early stopping,
zero-shot answers, and the summary and analyses built from answers files."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from snakemake_helpers import snakemake, write_config

from w2s.records.predictions import ANSWER_COLUMNS

PRETRAIN = {"world": "kb", "arch": "gpt2", "num_layers": 1, "num_heads": 2, "batch_size": 64}


def question_grid() -> dict:
    model = {"lr": 3e-3, "batch_size": 10, "minibatch_size": 10, "max_length": 8}
    return {
        "seeds": [0],
        "worlds": {"kb": {"n_entities": 120, "digits": 1, "seed": 2, "corpus_lines": 3000}},
        "datasets": {
            "kbq": {
                "kind": "world",
                "options": {"world": "kb", "format": "question"},
                "n_weak_train": 30,
                "n_strong_train": 30,
                "n_test": 30,
                "n_validation": 20,
            }
        },
        "models": {
            "small": {"pretrain": {**PRETRAIN, "hidden_size": 8, "steps": 30}, **model},
            "medium": {"pretrain": {**PRETRAIN, "hidden_size": 16, "steps": 40}, **model},
            "large": {"pretrain": {**PRETRAIN, "hidden_size": 16, "steps": 60}, **model},
        },
        "pairs": [{"weak": "small", "strong": "large"}],
        "chains": [["small", "medium", "large"]],
        # the confidence loss on answers too (its own term: the student's own argmax tokens)
        "losses": {"xent": {"type": "xent"}, "logconf": {"type": "logconf", "alpha_max": 0.5}},
        "labelling": {"shards": 2},
        "training": {"epochs": 2, "eval_every": 2, "early_stopping": "weak_val", "autocast": "off"},
        # each strong model answers prompts of 2 questions with its weak model's answers, then the test question
        "few_shot": {"k": 2, "labels": ["weak"]},
    }


def answers(path) -> pl.DataFrame:
    table = pl.read_parquet(path)
    assert table.columns == list(ANSWER_COLUMNS), path
    assert (table["correct"] == (table["generated"] == table["answer"])).all(), path
    return table


@pytest.mark.workflow
def test_a_generative_world_grid_runs_end_to_end(tmp_path):
    write_config(tmp_path, question_grid())
    result = snakemake(tmp_path, "--cores", "2")
    assert "label_strong_train" in result.stdout + result.stderr  # the labels came from shard jobs
    results = tmp_path / "results"
    test = pl.read_parquet(results / "data/kbq/seed0/test.parquet")
    labels = answers(results / "labels/kbq/seed0/small.parquet")
    strong_train = pl.read_parquet(results / "data/kbq/seed0/strong_train.parquet")
    assert labels["id"].to_list() == strong_train["id"].to_list()
    assert labels["answer"].to_list() == strong_train["answer"].to_list()
    assert labels["generated"].str.len_chars().min() >= 1

    # every run's metrics are its predictions' exact-match accuracy on the test split
    folders = {
        "weak": "weak/kbq/seed0/small",
        "ceiling": "ceiling/kbq/seed0/large",
        "student": "student/kbq/seed0/small/large/xent",
        "chain": "chain/kbq/seed0/small+medium+large/xent/large",
        "zero_shot": "zero_shot/kbq/seed0/large",
    }
    folders["student_logconf"] = "student/kbq/seed0/small/large/logconf"
    for role, folder in folders.items():
        role = role.removesuffix("_logconf")
        metrics = json.loads((results / folder / "metrics.json").read_text())
        predictions = answers(results / folder / "test_predictions.parquet")
        assert metrics["role"] == role and metrics["n"] == test.height
        assert metrics["accuracy"] == pytest.approx(predictions["correct"].mean())
    assert (
        results / "zero_shot/kbq/seed0/small/metrics.json"
    ).exists()  # every model answers zero-shot

    # k-shot prompts: the weak model's answers as the examples' answers, the test question's own text kept
    folder = results / "few_shot/kbq/seed0/small/large"
    prompted = pl.read_parquet(folder / "test_predictions.parquet")
    assert prompted.columns == [*ANSWER_COLUMNS, "shot_ids"]
    assert prompted["text"].to_list() == test["text"].to_list()
    assert all(len(set(ids)) == 2 for ids in prompted["shot_ids"])
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["role"] == "few_shot" and metrics["weak"] == "small"
    assert metrics["accuracy"] == pytest.approx(prompted["correct"].mean())

    # the chain's next link learned from the medium link's cross-fitted answers of strong_train
    chain_labels = answers(
        results / "labels/kbq/seed0/chain/small+medium+large/xent/medium.parquet"
    )
    assert chain_labels["id"].to_list() == strong_train["id"].to_list()

    # early stopping chose among evaluations by agreement with the weak model's answers on validation
    stops = json.loads((results / folders["student"] / "early_stopping.json").read_text())
    weak_val = next(s for s in stops if s["early_stopping"] == "weak_val")
    trajectory = [
        json.loads(line)
        for line in (results / folders["student"] / "trajectory.jsonl").read_text().splitlines()
    ]
    agreements = [p["val_agreement"] for p in trajectory if "val_agreement" in p]
    assert agreements and max(agreements) == pytest.approx(weak_val["val_agreement"])
    answers(results / folders["student"] / "early_stop_weak_val/test_predictions.parquet")

    # the analyses compare answers: the student's agreement with its weak model, by hand
    runs = pl.read_parquet(results / "summary/runs.parquet")
    student = runs.filter(pl.col("chain").is_null() | (pl.col("chain") == ""))
    assert student.height >= 1 and student["pgr"].null_count() < student.height
    # misfit: the weak answers' mean negative log-probability per token under each student and chain link
    assert ((runs["misfit"] > 0) & runs["misfit"].is_finite()).all()
    agreement = pl.read_parquet(results / "analysis/agreement.parquet").filter(
        (pl.col("role") == "student") & (pl.col("chain") == "")
    )
    own = answers(results / folders["student"] / "test_predictions.parquet")
    weak = answers(results / folders["weak"] / "test_predictions.parquet")
    same = own.join(weak, on="id", suffix="_weak").select(
        (pl.col("generated") == pl.col("generated_weak")).mean()
    )
    assert agreement["agreement"].to_list()[0] == pytest.approx(same.item())
    calibration = pl.read_parquet(results / "analysis/calibration.parquet")
    assert calibration.filter(pl.col("role") == "student")["ece_p1"].is_finite().all()
    trajectories = pl.read_parquet(results / "analysis/trajectories.parquet")
    assert trajectories["test_agreement"].drop_nulls().len() > 0
    assert np.isfinite(trajectories["test_accuracy"].to_numpy()).all()
