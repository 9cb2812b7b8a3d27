"""A ground-truth budget: a seeded share of a student's rows learn their true label; every loss type takes it."""

from __future__ import annotations

import polars as pl
import pytest
from snakemake_helpers import tiny_config

from w2s.errors import W2SError
from w2s.pipeline.config import validate_config
from w2s.training.ground_truth import with_ground_truth
from w2s.training.losses import LogConfLoss, make_loss


def labels_file(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"id": range(n), "label": [i % 2 for i in range(n)], "soft_label": [0.25] * n}
    )


def test_a_seeded_share_of_rows_learns_the_truth_and_the_rest_the_weak_label():
    frame = labels_file(200)
    budget = with_ground_truth(frame, "soft_label", 0.1, seed=3)
    truth = budget["soft_label"] != 0.25
    assert int(truth.sum()) == 20  # 10%: each chosen row's target is its label (0.0 or 1.0)
    chosen = budget.filter(truth)
    assert (chosen["soft_label"] == chosen["label"].cast(pl.Float64)).all()
    assert budget.drop("soft_label").equals(frame.drop("soft_label"))  # nothing else moves
    again = with_ground_truth(frame, "soft_label", 0.1, seed=3)
    other = with_ground_truth(frame, "soft_label", 0.1, seed=4)
    assert again.equals(budget) and not other.equals(budget)
    assert int((with_ground_truth(frame, "soft_label", 0.5, 3)["soft_label"] != 0.25).sum()) == 100


def test_generated_answers_take_the_true_answer():
    frame = pl.DataFrame({"id": range(4), "answer": list("abcd"), "generated": ["x"] * 4})
    budget = with_ground_truth(frame, "generated", 0.5, seed=0)
    right = [g == a for g, a in zip(budget["generated"], frame["answer"], strict=True)]
    assert sum(right) == 2 and all(g == "x" for g, r in zip(budget["generated"], right) if not r)


def test_every_loss_type_takes_a_budget_and_the_config_checks_it():
    config = tiny_config()
    config["losses"] = {
        "xent_gt10": {"type": "xent", "ground_truth": 0.1},
        "logconf_gt10": {"type": "logconf", "ground_truth": 0.1},
    }
    validate_config(config)
    assert isinstance(make_loss("logconf_gt10", config["losses"]["logconf_gt10"]), LogConfLoss)
    config["losses"]["xent_gt10"]["ground_truth"] = 1.5
    with pytest.raises(
        W2SError, match=r"config key losses.xent_gt10.ground_truth: 1.5 is greater than"
    ):
        validate_config(config)
