"""Ensemble supervisors: several weak models' labels combined (by their mean, or by weights fitted on held-out
ground truth) into one supervisor with its own labels file, test predictions and summary rows."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from snakemake_helpers import tiny_config

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
