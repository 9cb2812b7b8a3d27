"""One grid with every method the field added beside the paper's, end to end with real Snakemake: ensemble
supervisors (mean and fitted) whose one member is a hub revision holding only pickled weights (converted on the
config's opt-in), a ground-truth budget, the confidence loss on generated answers in a config that mixes a
classification task with a generative one, k-shot prompts with true and weak labels, and every student's misfit;
then a dry run has nothing to do."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config
from test_generative_world import question_grid

from w2s.pipeline.config import validate_config
from w2s.pipeline.grid import runs

pytestmark = pytest.mark.workflow


def every_method_grid() -> dict:
    config = tiny_config()
    questions = (
        question_grid()
    )  # the generative world grid's question task, beside the classification one
    config["worlds"] = questions["worlds"]
    config["datasets"]["toy"]["n_validation"] = 32
    config["datasets"]["kbq"] = questions["datasets"]["kbq"]
    hubling = {"path": "w2s-test/tiny-lm", "revision": "step1-pickled", "convert_pickle": True}
    config["models"] = {
        "weakling": config["models"]["weakling"],
        "hubling": {**hubling, "max_length": 48, "batch_size": 16, "minibatch_size": 8},
        "strongling": config["models"]["strongling"],
    }
    for entry in config["models"].values():
        entry["label_tokens"] = ["0", "1"]  # one byte token each: the prompts' readout
    config["ensembles"] = {
        "both": {"members": ["weakling", "hubling"]},
        "both_fitted": {"members": ["weakling", "hubling"], "weighting": "fitted"},
    }
    config["pairs"] = [
        {"weak": "weakling", "strong": "strongling"},
        {"weak": "both", "strong": "strongling"},
        {"weak": "both_fitted", "strong": "strongling"},
    ]
    config["losses"] = {
        "xent": {"type": "xent"},
        "logconf": {"type": "logconf", "alpha_max": 0.5},  # on answers too
        "xent_gt25": {"type": "xent", "ground_truth": 0.25},
    }
    config["few_shot"] = {"k": 2}
    config["training"]["early_stopping"] = (
        "weak_val"  # students stop by the ensemble's labels of validation
    )
    return config


@pytest.mark.usefixtures("hub_models")
def test_every_method_runs_in_one_grid_and_a_dry_run_after_it_has_nothing_to_do(tmp_path):
    config = every_method_grid()
    planned = runs(validate_config(every_method_grid()))
    # on generated answers an ensemble supervises nothing (it combines two classes' soft labels)
    assert {r.weak for r in planned if r.role == "student" and r.dataset == "kbq"} == {"weakling"}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    results = tmp_path / "results"

    # the pickle-only revision was converted and is the model its runs loaded
    weak = json.loads((results / "weak/toy/seed0/hubling/metrics.json").read_text())
    assert weak["role"] == "weak" and 0 <= weak["accuracy"] <= 1
    assert ":converted" in (tmp_path / "logs/weak/toy/seed0/hubling.log").read_text()

    # ensembles: the mean's labels are its members', averaged; the fitted one's weights are recorded
    members = [
        pl.read_parquet(results / f"labels/toy/seed0/{m}.parquet") for m in ("weakling", "hubling")
    ]
    mean = pl.read_parquet(results / "labels/toy/seed0/both.parquet")
    assert mean["id"].to_list() == members[0]["id"].to_list()
    expected = (members[0]["soft_label"] + members[1]["soft_label"]) / 2
    assert np.allclose(mean["soft_label"].to_numpy(), expected.to_numpy())
    meta = pl.read_parquet_metadata(results / "labels/toy/seed0/both.parquet")
    assert meta["weak_model"] == "both" and meta["members"] == "weakling,hubling"
    validation = pl.read_parquet(results / "labels/toy/seed0/validation/both.parquet")
    member_validation = [
        pl.read_parquet(results / f"labels/toy/seed0/validation/{m}.parquet")
        for m in ("weakling", "hubling")
    ]
    expected = (member_validation[0]["soft_label"] + member_validation[1]["soft_label"]) / 2
    assert np.allclose(validation["soft_label"].to_numpy(), expected.to_numpy())
    stops = json.loads(
        (results / "student/toy/seed0/both/strongling/xent/early_stopping.json").read_text()
    )
    assert {stop["early_stopping"] for stop in stops} >= {"weak_val"}
    fitted = json.loads((results / "ensemble/toy/seed0/both_fitted/metrics.json").read_text())
    assert (
        fitted["role"] == "weak" and fitted["weighting"] == "fitted" and len(fitted["weights"]) == 3
    )
    test = pl.read_parquet(results / "ensemble/toy/seed0/both_fitted/test_predictions.parquet")
    assert fitted["accuracy"] == pytest.approx(test["correct"].mean())
    assert not (results / "ensemble/kbq").exists()

    # the ground-truth budget: a quarter of the student's training rows learnt the truth
    log = (tmp_path / "logs/student/toy/seed0/weakling/strongling/xent_gt25.log").read_text()
    assert f"ground truth: {round(0.25 * 48)} of 48 training rows learn their true label" in log

    runs_table = pl.read_parquet(results / "summary/runs.parquet")
    finals = runs_table.filter(pl.col("early_stopping") == "none")
    # every cell: toy's three supervisors and kbq's one, each with the three losses
    cells = {(r["dataset"], r["weak"], r["loss"]) for r in finals.iter_rows(named=True)}
    assert cells == {
        (d, w, loss)
        for d, weaks in (("toy", ("weakling", "both", "both_fitted")), ("kbq", ("weakling",)))
        for w in weaks
        for loss in ("xent", "logconf", "xent_gt25")
    }
    for row in finals.filter(pl.col("dataset") == "toy").iter_rows(named=True):
        folder = (
            "weak/toy/seed0/weakling"
            if row["weak"] == "weakling"
            else f"ensemble/toy/seed0/{row['weak']}"
        )
        assert row["weak_acc"] == pytest.approx(
            json.loads((results / folder / "metrics.json").read_text())["accuracy"]
        )
    # misfit for every student; k-shot rows beside each, with true labels and with its supervisor's
    assert (finals["misfit"].is_finite() & (finals["misfit"] >= 0)).all()
    assert (
        finals["few_shot_acc"].null_count() == 0 and finals["few_shot_weak_acc"].null_count() == 0
    )
    for row in finals.iter_rows(named=True):
        folder = results / f"few_shot/{row['dataset']}/seed0/{row['weak']}/strongling"
        assert (
            row["few_shot_weak_acc"]
            == json.loads((folder / "metrics.json").read_text())["accuracy"]
        )
    # no test item is among its own examples, which are strong_train's, the same for every labelling
    test = pl.read_parquet(results / "data/toy/seed0/test.parquet")
    train = pl.read_parquet(results / "data/toy/seed0/strong_train.parquet")
    texts = dict(zip(train["id"], train["text"], strict=True))
    shots = {}
    for labels in ("truth", "weakling", "both"):
        folder = results / f"few_shot/toy/seed0/{labels}/strongling"
        table = pl.read_parquet(folder / "test_predictions.parquet")
        assert table["id"].to_list() == test["id"].to_list()
        assert (
            table["text"].to_list() == test["text"].to_list()
        )  # the item's own text, not the prompt
        for item, text, drawn in zip(table["id"], table["text"], table["shot_ids"], strict=True):
            assert len(set(drawn)) == 2 and all(i in texts for i in drawn)
            assert item not in drawn and text not in [texts[i] for i in drawn]
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["role"] == "few_shot" and metrics["k"] == 2
        assert metrics["accuracy"] == pytest.approx(table["correct"].mean())
        shots[labels] = table["shot_ids"].to_list()
    assert shots["truth"] == shots["weakling"] == shots["both"]
    truth = json.loads((results / "few_shot/toy/seed0/truth/strongling/metrics.json").read_text())
    assert set(finals.filter(pl.col("dataset") == "toy")["few_shot_acc"]) == {truth["accuracy"]}
    answers = pl.read_parquet(
        results / "few_shot/kbq/seed0/truth/strongling/test_predictions.parquet"
    )
    assert "generated" in answers.columns and all(len(ids) == 2 for ids in answers["shot_ids"])
    assert planned_jobs(tmp_path) == {}
