"""k-shot prompting (config few_shot): the draw of examples, how each kind of task writes them, the config's checks
and the summary's columns (the prompts scored by real Snakemake grids: tests/test_every_method.py, and per kind
tests/test_generative_world.py and tests/test_reward_grid.py)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from metrics_records import metrics_record
from snakemake_helpers import tiny_config

from w2s.analysis.summary import aggregate, runs_table
from w2s.data.prompting import draw_shots, prompted
from w2s.errors import W2SError
from w2s.kinds import ANSWERS, CLASSIFICATION, COMPARISONS
from w2s.pipeline.config import validate_config
from w2s.pipeline.grid import few_shot_runs
from w2s.records.params import ZeroShotParams


def test_no_test_item_is_among_its_own_examples_even_where_a_training_row_shares_its_text():
    train = [f"t{i}" for i in range(30)] + ["same"] * 5  # a text both splits hold, five times over
    test = ["same", "other", "t3"]
    shots = draw_shots(test, train, k=28, seed=0)  # 28 of the 30 rows that are not "same" (or "t3")
    for text, drawn in zip(test, shots, strict=True):
        assert len(drawn) == len(set(drawn)) == 28
        assert text not in [train[i] for i in drawn]
    assert draw_shots(test, train, 28, seed=0) == shots  # seeded
    assert draw_shots(test, train, 28, seed=1) != shots
    with pytest.raises(W2SError, match="few_shot.k 31"):  # "same" leaves 30 rows to draw from
        draw_shots(test, train, 31, seed=0)


def test_each_kind_writes_its_examples_as_the_model_is_asked_to_continue():
    rows = pl.DataFrame({"text": ["a=1.", "b=2."]})
    labels = pl.Series([1, 0])
    params = ZeroShotParams(
        source="m",
        label_tokens=[" No", " Yes"],
        dtype="float32",
        trust_remote_code=False,
        max_length=8,
        predict_batch_size=2,
        autocast="off",
    )
    assert CLASSIFICATION.demonstrations(rows, labels, params) == ["a=1. Yes", "b=2. No"]
    answers = pl.Series([" c0 ", "d1"])
    fmt = {"prefix": " ", "stop": ".", "max_new_tokens": 3}
    generative = replace(params, label_tokens=None, answers=fmt)
    assert ANSWERS.demonstrations(rows, answers, generative) == ["a=1. c0.", "b=2. d1."]
    pairs = rows.with_columns(
        completion_a=pl.Series(["A1", "A2"]), completion_b=pl.Series(["B1", "B2"])
    )
    unread = replace(params, label_tokens=None, pairs=True)  # read by each completion's likelihood
    assert COMPARISONS.demonstrations(pairs, labels, unread) == [
        "a=1.A1",
        "b=2.B2",
    ]  # the preferred completion
    with pytest.raises(W2SError, match="label_tokens"):
        CLASSIFICATION.demonstrations(rows, labels, replace(params, label_tokens=None))
    test = pl.DataFrame({"id": [7], "text": ["q?"]})
    assert prompted(test, ["x1", "x2", "x3"], [[2, 0]], "\n\n")["text"].to_list() == [
        "x3\n\nx1\n\nq?"
    ]


def few_shot_grid(**few_shot) -> dict:
    config = tiny_config()
    for entry in config["models"].values():
        entry["label_tokens"] = ["0", "1"]  # one byte token each
    config["few_shot"] = {"k": 3, **few_shot}
    return config


def test_prompts_are_planned_for_the_strong_models_with_true_and_weak_labels():
    config = validate_config(few_shot_grid())
    runs = few_shot_runs(config, "toy", 0)
    assert [(r.model, r.weak) for r in runs] == [("strongling", None), ("strongling", "weakling")]
    assert runs[0].folder == "results/few_shot/toy/seed0/truth/strongling"
    assert runs[1].folder == "results/few_shot/toy/seed0/weakling/strongling"
    weak_only = validate_config(few_shot_grid(labels=["weak"]))
    assert [r.weak for r in few_shot_runs(weak_only, "toy", 0)] == ["weakling"]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda c: c["models"].update(truth=c["models"].pop("weakling")),
            "config key few_shot: 'truth' names the prompts with true labels",
        ),
        (
            lambda c: [e.pop("label_tokens") for e in c["models"].values()],
            "config key few_shot: no model answers k-shot prompts",
        ),
        (lambda c: c["few_shot"].update(k=0), "config key few_shot.k: 0 is less than the minimum"),
    ],
)
def test_the_config_refuses_prompts_it_cannot_build(change, message):
    config = few_shot_grid()
    change(config)
    with pytest.raises(W2SError, match=message):
        validate_config(config)


def test_the_summary_puts_each_prompting_row_beside_the_student_it_matches():
    records = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        records += [
            metrics_record("weak", "s", 0.60 + shift, seed=seed),
            metrics_record("weak", "m", 0.70 + shift, seed=seed),
            metrics_record("ceiling", "l", 0.90 + shift, seed=seed),
            metrics_record("student", "l", 0.80 + shift, weak="s", loss="xent", seed=seed),
            metrics_record("student", "l", 0.85 + shift, weak="m", loss="xent", seed=seed),
            metrics_record("few_shot", "l", 0.66 + shift, seed=seed),  # true labels
            metrics_record("few_shot", "l", 0.63 + shift, weak="s", seed=seed),
            metrics_record("few_shot", "l", 0.69 + shift, weak="m", seed=seed),
        ]
    runs = runs_table(records)
    by_weak = {r["weak"]: r for r in runs.filter(pl.col("seed") == 1).iter_rows(named=True)}
    assert by_weak["s"]["few_shot_acc"] == by_weak["m"]["few_shot_acc"] == pytest.approx(0.68)
    assert by_weak["s"]["few_shot_weak_acc"] == pytest.approx(0.65)
    assert by_weak["m"]["few_shot_weak_acc"] == pytest.approx(0.71)
    cells = {r["weak"]: r for r in aggregate(runs).iter_rows(named=True)}
    # PGR of the means: weak 0.61, ceiling 0.91, k-shot with true labels 0.67, with s's labels 0.64
    assert cells["s"]["few_shot_pgr_of_means"] == pytest.approx(0.06 / 0.30)
    assert cells["s"]["few_shot_weak_pgr_of_means"] == pytest.approx(0.03 / 0.30)
    with pytest.raises(W2SError, match="two few_shot records"):
        runs_table([*records, metrics_record("few_shot", "l", 0.5, weak="s")])
    with pytest.raises(W2SError, match="few_shot record .* n=50"):
        runs_table([{**r, "n": 50} if r["role"] == "few_shot" else r for r in records])
