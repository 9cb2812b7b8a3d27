"""k-shot prompting (config few_shot): the draw of examples, how each kind of task writes them, the config's checks,
and the prompts scored by a real Snakemake grid."""

from __future__ import annotations

import json

import polars as pl
import pytest
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config

from w2s.analysis.summary import aggregate, runs_table
from w2s.data.prompting import demonstrations, draw_shots, prompted
from w2s.errors import W2SError
from w2s.pipeline.config import validate_config
from w2s.pipeline.grid import few_shot_runs


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
    assert demonstrations(rows, labels, [" No", " Yes"], None) == ["a=1. Yes", "b=2. No"]
    answers = pl.Series([" c0 ", "d1"])
    fmt = {"prefix": " ", "stop": ".", "max_new_tokens": 3}
    assert demonstrations(rows, answers, None, fmt) == ["a=1. c0.", "b=2. d1."]
    pairs = rows.with_columns(
        completion_a=pl.Series(["A1", "A2"]), completion_b=pl.Series(["B1", "B2"])
    )
    assert demonstrations(pairs, labels, None, None) == [
        "a=1.A1",
        "b=2.B2",
    ]  # the preferred completion
    with pytest.raises(W2SError, match="label_tokens"):
        demonstrations(rows, labels, None, None)
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


@pytest.mark.workflow
def test_k_shot_prompts_are_scored_and_summarised_end_to_end(tmp_path):
    write_config(tmp_path, few_shot_grid())
    snakemake(tmp_path, "--cores", "2")
    results = tmp_path / "results"
    test = pl.read_parquet(results / "data/toy/seed0/test.parquet")
    train = pl.read_parquet(results / "data/toy/seed0/strong_train.parquet")
    weak_labels = pl.read_parquet(results / "labels/toy/seed0/weakling.parquet")
    accuracies = {}
    for shots in ("truth", "weakling"):
        folder = results / f"few_shot/toy/seed0/{shots}/strongling"
        table = pl.read_parquet(folder / "test_predictions.parquet")
        assert table["id"].to_list() == test["id"].to_list()
        assert (
            table["text"].to_list() == test["text"].to_list()
        )  # the item's own text, not the prompt
        texts = dict(zip(train["id"], train["text"], strict=True))
        for item, text, drawn in zip(table["id"], table["text"], table["shot_ids"], strict=True):
            assert len(set(drawn)) == 3 and all(i in texts for i in drawn)  # strong_train's rows
            assert item not in drawn and text not in [texts[i] for i in drawn]
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["role"] == "few_shot" and metrics["k"] == 3
        assert metrics["weak"] == (None if shots == "truth" else "weakling")
        assert metrics["accuracy"] == pytest.approx(table["correct"].mean())
        accuracies[shots] = metrics["accuracy"]
    # the same examples for both labellings: the comparison is paired
    truth_table = pl.read_parquet(
        results / "few_shot/toy/seed0/truth/strongling/test_predictions.parquet"
    )
    weak_table = pl.read_parquet(
        results / "few_shot/toy/seed0/weakling/strongling/test_predictions.parquet"
    )
    assert truth_table["shot_ids"].to_list() == weak_table["shot_ids"].to_list()
    assert weak_labels["id"].to_list() == train["id"].to_list()
    runs = pl.read_parquet(results / "summary/runs.parquet")
    assert set(runs["few_shot_acc"]) == {accuracies["truth"]}
    assert set(runs["few_shot_weak_acc"]) == {accuracies["weakling"]}
    aggregate = pl.read_csv(results / "summary/aggregate.csv")
    row = aggregate.row(0, named=True)
    gap = row["ceiling_acc_mean"] - row["weak_acc_mean"]
    if gap > 0:
        expected = (accuracies["truth"] - row["weak_acc_mean"]) / gap
        assert row["few_shot_pgr_of_means"] == pytest.approx(expected)
    assert planned_jobs(tmp_path) == {}


def scored(role, model, accuracy, weak=None, loss=None, seed=0):
    return {
        "dataset": "d",
        "seed": seed,
        "role": role,
        "model": model,
        "weak": weak,
        "loss": loss,
        "accuracy": accuracy,
        "n": 100,
    }


def test_the_summary_puts_each_prompting_row_beside_the_student_it_matches():
    records = []
    for seed, shift in ((0, 0.0), (1, 0.02)):
        records += [
            scored("weak", "s", 0.60 + shift, seed=seed),
            scored("weak", "m", 0.70 + shift, seed=seed),
            scored("ceiling", "l", 0.90 + shift, seed=seed),
            scored("student", "l", 0.80 + shift, weak="s", loss="xent", seed=seed),
            scored("student", "l", 0.85 + shift, weak="m", loss="xent", seed=seed),
            scored("few_shot", "l", 0.66 + shift, seed=seed),  # true labels
            scored("few_shot", "l", 0.63 + shift, weak="s", seed=seed),
            scored("few_shot", "l", 0.69 + shift, weak="m", seed=seed),
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
        runs_table([*records, scored("few_shot", "l", 0.5, weak="s")])
    with pytest.raises(W2SError, match="few_shot record .* n=50"):
        runs_table([{**r, "n": 50} if r["role"] == "few_shot" else r for r in records])
