"""A ground-truth budget (a seeded share of a student's rows learn their true label; every loss type takes it), and
misfit, the student's distance from what it was taught."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from snakemake_helpers import tiny_config

from w2s.errors import W2SError
from w2s.pipeline.config import validate_config
from w2s.training.ground_truth import with_ground_truth
from w2s.training.losses import LogConfLoss, make_loss
from w2s.training.misfit import kl_misfit


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


def test_misfit_is_the_mean_kl_from_the_targets_to_the_student():
    p, t = np.array([0.8, 0.5, 0.1]), np.array([1.0, 0.25, 0.0])
    by_hand = [
        -math.log(0.8),
        0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5),
        -math.log(0.9),
    ]
    assert kl_misfit(p, t) == pytest.approx(sum(by_hand) / 3)
    assert kl_misfit(t.clip(0.1, 0.9), t.clip(0.1, 0.9)) == pytest.approx(0.0)  # a perfect fit
    assert np.isfinite(
        kl_misfit(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    )  # clipped, not infinite


def test_the_gains_analysis_tabulates_misfit_and_budget_and_draws_both(tmp_path):
    from w2s.analysis.gains import budget_lines, gains_table, plot_gains

    cells = {"xent": 0.80, "xent_gt10": 0.85, "logconf": 0.75}  # each loss's student accuracy
    runs = pl.DataFrame(
        {
            "dataset": "d",
            "weak": "w",
            "strong": "s",
            "loss": [loss for loss in cells for _ in range(2)] + ["xent"],
            "chain": [""] * 6 + ["w+m+s"],  # a chain's run is no plain student
            "generative": False,
            "mode": "finetune",
            "early_stopping": "none",
            "seed": [0, 1] * 3 + [0],
            "weak_acc": [0.6, 0.7] * 3 + [0.6],
            "ceiling_acc": 0.9,
            "student_acc": [acc for acc in cells.values() for _ in range(2)] + [0.85],
            "pgr": 0.5,
            "misfit": [
                0.3,
                0.2,
                0.25,
                0.1,
                0.4,
                0.2,
                None,
            ],  # the chain link's from before misfit existed
        }
    )
    shares = {"xent": 0.0, "xent_gt10": 0.1, "logconf": 0.0}
    types = {"xent": "xent", "xent_gt10": "xent", "logconf": "logconf"}
    table = gains_table(runs, shares, types)
    assert table["ground_truth"].to_list() == [0.0, 0.0, 0.1, 0.1, 0.0, 0.0, 0.0]
    assert table["method"].to_list()[-1] == "chain w+m+s"
    lines = budget_lines(table).sort("loss_type", "ground_truth")
    # PGR of the seed-mean accuracies: weak 0.65, ceiling 0.9
    assert lines.select("loss_type", "ground_truth").rows() == [
        ("logconf", 0.0),
        ("xent", 0.0),
        ("xent", 0.1),
    ]
    assert lines["pgr_of_means"].to_list() == pytest.approx([0.1 / 0.25, 0.15 / 0.25, 0.2 / 0.25])
    assert (
        gains_table(runs.drop("misfit"), shares, types)["misfit"].null_count() == 7
    )  # an older summary
    plot_gains(table, "d", ["w", "s"], tmp_path / "gains.png")
    assert (tmp_path / "gains.png").stat().st_size > 1000
