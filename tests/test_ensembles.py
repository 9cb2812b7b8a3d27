"""Ensemble supervisors: several weak models' labels combined (by their mean, or by weights fitted on held-out
ground truth) into one supervisor with its own labels file, test predictions and summary rows."""

from __future__ import annotations

import copy
import json

import numpy as np
import polars as pl
import pytest
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config

from w2s.errors import W2SError
from w2s.pipeline.config import validate_config
from w2s.pipeline.ensembles import combine, fit_weights
from w2s.pipeline.grid import model_pairs, weak_models


def test_fitted_weights_trust_the_member_that_is_right_and_the_mean_does_not():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400).astype(float)
    good = np.where(labels == 1, 0.8, 0.2)  # right 100% of the time, moderately confident
    noise = rng.uniform(0.05, 0.95, 400)  # says nothing about the truth
    p1s = np.column_stack([good, noise])
    weights = fit_weights(p1s, labels)
    assert weights[0] > 1.0 and abs(weights[1]) < 0.2 * weights[0]
    fitted = combine(p1s, weights)
    assert ((fitted > 0.5) == labels.astype(bool)).mean() == 1.0
    assert combine(p1s, None) == pytest.approx(p1s.mean(axis=1))
    assert ((combine(p1s, None) > 0.5) == labels.astype(bool)).mean() < 1.0


def ensemble_grid(**overrides) -> dict:
    config = tiny_config()
    middle = copy.deepcopy(config["models"]["weakling"])
    middle["build"]["hidden_size"] = 12
    config["models"] = {
        "weakling": config["models"]["weakling"],
        "midling": middle,
        "strongling": config["models"]["strongling"],
    }
    config["datasets"]["toy"]["n_validation"] = 32
    config["ensembles"] = {
        "both": {"members": ["weakling", "midling"]},
        "both_fitted": {"members": ["weakling", "midling"], "weighting": "fitted"},
    }
    config["pairs"] = [
        {"weak": "both", "strong": "strongling"},
        {"weak": "both_fitted", "strong": "strongling"},
    ]
    config["losses"] = {"xent": {"type": "xent"}}
    config.update(overrides)
    return config


def test_an_ensemble_is_a_supervisor_of_the_pairs_and_its_members_are_weak_models():
    config = validate_config(ensemble_grid(pairs="all"))
    pairs = model_pairs(config)
    assert ("both", "strongling") in pairs and ("both_fitted", "strongling") in pairs
    assert ("both", "midling") not in pairs  # a member is no student of its own ensemble
    assert weak_models(config) == ["weakling", "midling"]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["ensembles"].update(weakling={"members": ["midling", "strongling"]}),
            "config key ensembles.weakling: 'weakling' is a model's name too",
        ),
        (
            lambda c: c["ensembles"]["both"].update(members=["weakling", "nobody"]),
            "config key ensembles.both.members: 'nobody' is not declared under models",
        ),
        (
            lambda c: c.update(pairs=[{"weak": "strongling", "strong": "both"}]),
            "config key pairs.0.strong: model 'both' is not declared under models",
        ),
    ],
)
def test_the_config_refuses_an_ensemble_it_cannot_build(change, message):
    config = ensemble_grid()
    change(config)
    with pytest.raises(W2SError, match=message):
        validate_config(config)


@pytest.mark.workflow
def test_ensembles_label_and_supervise_students_end_to_end(tmp_path):
    config = ensemble_grid()
    config["training"]["early_stopping"] = (
        "weak_val"  # students stop by the ensemble's labels of validation
    )
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    results = tmp_path / "results"
    members = [
        pl.read_parquet(results / f"labels/toy/seed0/{m}.parquet") for m in ("weakling", "midling")
    ]
    mean = pl.read_parquet(results / "labels/toy/seed0/both.parquet")
    assert mean["id"].to_list() == members[0]["id"].to_list()
    expected = (members[0]["soft_label"] + members[1]["soft_label"]) / 2
    assert np.allclose(mean["soft_label"].to_numpy(), expected.to_numpy())
    meta = pl.read_parquet_metadata(results / "labels/toy/seed0/both.parquet")
    assert meta["weak_model"] == "both" and meta["members"] == "weakling,midling"
    validation = pl.read_parquet(results / "labels/toy/seed0/validation/both.parquet")
    member_validation = [
        pl.read_parquet(results / f"labels/toy/seed0/validation/{m}.parquet")
        for m in ("weakling", "midling")
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
    runs = pl.read_parquet(results / "summary/runs.parquet")
    assert sorted(set(runs["weak"])) == ["both", "both_fitted"]  # a row per early stop of each
    for row in runs.iter_rows(named=True):  # each ensemble is its students' weak baseline
        metrics = json.loads(
            (results / f"ensemble/toy/seed0/{row['weak']}/metrics.json").read_text()
        )
        assert row["weak_acc"] == pytest.approx(metrics["accuracy"])
    agreement = pl.read_parquet(results / "analysis/agreement.parquet")
    assert set(agreement.filter(pl.col("role") == "student")["weak"]) == {"both", "both_fitted"}
    assert planned_jobs(tmp_path) == {}
