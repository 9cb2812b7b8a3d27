"""Bootstrapping chains: each link learns from the labels of the student before it, and adding a chain reruns only
its new links."""

from __future__ import annotations

import json

import polars as pl
import pytest
from snakemake_helpers import REPORTING, planned_jobs, snakemake, tiny_config, write_config

from w2s.version import checkpoint_sha256

pytestmark = pytest.mark.workflow

CHAIN = "weakling+midling+strongling"


def chain_config(chains: list) -> dict:
    config = tiny_config(pairs=[{"weak": "weakling", "strong": "strongling"}], chains=chains)
    models = config["models"]
    midling = {**models["weakling"], "build": {**models["weakling"]["build"], "hidden_size": 12}}
    config["models"] = {
        "weakling": models["weakling"],
        "midling": midling,
        "strongling": models["strongling"],
    }
    config["losses"] = {"xent": {"type": "xent"}}
    return config


def test_a_chain_link_learns_from_the_previous_student_and_adding_it_reruns_only_new_runs(tmp_path):
    write_config(tmp_path, chain_config([]))
    snakemake(tmp_path, "--cores", "2")
    write_config(tmp_path, chain_config([["weakling", "midling", "strongling"]]))
    # new: midling (built, its ceiling, and the first link: the weakling -> midling student), that student's labels
    # and the last link; nothing that existed reruns
    assert planned_jobs(tmp_path) == {
        "build_base_model": 1,
        "train_ceiling": 1,
        "train_student": 1,
        "crossfit_chain_labels": 1,
        "train_chain": 1,
        **REPORTING,
    }
    snakemake(tmp_path, "--cores", "2")

    # midling labels strong_train held out: each row by a midling trained, as its student was, on the weak labels of
    # the other fold only
    labels = tmp_path / f"results/labels/toy/seed0/chain/{CHAIN}/xent/midling.parquet"
    meta = pl.read_parquet_metadata(labels)
    assert (meta["weak_model"], meta["chain"], meta["split"], meta["loss"], meta["folds"]) == (
        "midling",
        CHAIN,
        "strong_train",
        "xent",
        "2",
    )
    strong_train = pl.read_parquet(tmp_path / "results/data/toy/seed0/strong_train.parquet")
    merged = pl.read_parquet(labels)
    assert merged["id"].to_list() == strong_train["id"].to_list()
    weak_labels = pl.read_parquet(tmp_path / "results/labels/toy/seed0/weakling.parquet")
    folds = tmp_path / f"results/labels/toy/seed0/chain/{CHAIN}/xent/midling.folds"
    held_out = []
    for k in range(2):
        fold = folds / f"{k}-of-2"
        trained_on = pl.read_parquet(fold / "train.parquet")
        labelled = pl.read_parquet(fold / "labels.parquet")
        assert not set(trained_on["id"]) & set(labelled["id"]) and 23 <= labelled.height <= 25
        assert trained_on.equals(weak_labels.filter(pl.col("id").is_in(trained_on["id"].implode())))
        assert json.loads((fold / "training.json").read_text())["n_train"] == trained_on.height
        assert not (fold / "checkpoint").exists()  # deleted once the labels are merged
        held_out.append(labelled)
    assert pl.concat(held_out).sort("id").equals(merged.sort("id"))
    assert meta["checkpoint_sha256"] == ",".join(
        pl.read_parquet_metadata(folds / f"{k}-of-2/labels.parquet")["checkpoint_sha256"]
        for k in range(2)
    )

    link = json.loads(
        (tmp_path / f"results/chain/toy/seed0/{CHAIN}/xent/strongling/metrics.json").read_text()
    )
    assert (link["role"], link["weak"], link["model"], link["chain"]) == (
        "chain",
        "weakling",
        "strongling",
        CHAIN,
    )
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    by_chain = {(r["weak"], r["strong"], r["chain"]): r for r in runs.iter_rows(named=True)}
    assert set(by_chain) == {
        ("weakling", "strongling", ""),
        ("weakling", "midling", ""),
        ("weakling", "strongling", CHAIN),
    }
    chained = by_chain[("weakling", "strongling", CHAIN)]
    direct = by_chain[("weakling", "strongling", "")]
    assert chained["student_acc"] == link["accuracy"]
    assert (chained["weak_acc"], chained["ceiling_acc"]) == (
        direct["weak_acc"],
        direct["ceiling_acc"],
    )


def test_methods_combine_with_sharded_labelling_and_test_predictions(tmp_path):
    """A chain of linear probes with weak_val early stopping, labels and test predictions in two shards each: the
    checkpoints of probes load wherever a checkpoint is read, and every early stop reaches the summary."""
    config = chain_config([["weakling", "midling", "strongling"]])
    for model in config["models"].values():
        model.update(mode="probe", lr=1e-2)
    config["datasets"]["toy"]["n_validation"] = 16
    config["training"].update(eval_every=1, early_stopping="weak_val")
    config["labelling"] = {"shards": 2, "test_shards": 2}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    chained = runs.filter(pl.col("chain") == CHAIN)
    assert sorted(chained["early_stopping"]) == ["none", "oracle", "weak_val"]
    assert set(runs["mode"]) == {"probe"}
    validation_labels = (
        tmp_path / f"results/labels/toy/seed0/chain/{CHAIN}/xent/validation/midling.parquet"
    )
    assert pl.read_parquet_metadata(validation_labels)["split"] == "validation"
    link = tmp_path / f"results/chain/toy/seed0/{CHAIN}/xent/strongling"
    stops = {r["early_stopping"]: r for r in json.loads((link / "early_stopping.json").read_text())}
    assert stops.keys() == {"weak_val", "oracle"} and 1 <= stops["weak_val"]["step"] <= 3
    merged = pl.read_parquet(link / "test_predictions.parquet")  # scored from two shards
    assert merged.height == 32


def test_in_sample_chain_labels_are_an_option(tmp_path):
    """chain_folds 1: the link's own student labels strong_train, the rows it trained on."""
    config = chain_config([["weakling", "midling", "strongling"]])
    config["chain_folds"] = 1
    write_config(tmp_path, config)
    assert "crossfit_chain_labels" not in planned_jobs(tmp_path)
    snakemake(tmp_path, "--cores", "2")
    first_student = tmp_path / "results/student/toy/seed0/weakling/midling/xent"
    meta = pl.read_parquet_metadata(
        tmp_path / f"results/labels/toy/seed0/chain/{CHAIN}/xent/midling.parquet"
    )
    assert (
        meta["checkpoint_sha256"] == checkpoint_sha256(first_student / "checkpoint")
        and "folds" not in meta
    )


def test_fresh_chain_splits_give_each_link_rows_no_model_before_it_saw(tmp_path):
    """chain_folds fresh, as the paper does: the first student labels a split of its own for the next link, drawn
    after the others (which stay as they were) and disjoint from them."""
    config = chain_config([["weakling", "midling", "strongling"]])
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2", "--until", "split_dataset")
    data = tmp_path / "results/data/toy/seed0"
    before = {
        s: pl.read_parquet(data / f"{s}.parquet") for s in ("weak_train", "strong_train", "test")
    }
    config["chain_folds"] = "fresh"
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path)
    assert "crossfit_chain_labels" not in jobs and "split_dataset" not in jobs
    assert (jobs["split_chain_train"], jobs["label_chain_link"], jobs["train_chain"]) == (1, 1, 1)
    snakemake(tmp_path, "--cores", "2")

    fresh = pl.read_parquet(data / "chain_train2.parquet")
    assert fresh.height == 48 and fresh["label"].sum() == 24
    for name, frame in before.items():
        assert pl.read_parquet(data / f"{name}.parquet").equals(frame)
        assert not set(fresh["id"]) & set(frame["id"]) and not set(fresh["text"]) & set(
            frame["text"]
        )
    labels = tmp_path / f"results/labels/toy/seed0/chain/{CHAIN}/xent/midling.parquet"
    meta = pl.read_parquet_metadata(labels)
    assert (meta["weak_model"], meta["split"], meta["chain"]) == ("midling", "chain_train2", CHAIN)
    first_student = tmp_path / "results/student/toy/seed0/weakling/midling/xent"
    assert meta["checkpoint_sha256"] == checkpoint_sha256(first_student / "checkpoint")
    assert pl.read_parquet(labels)["id"].to_list() == fresh["id"].to_list()
    link = tmp_path / f"results/chain/toy/seed0/{CHAIN}/xent/strongling"
    assert json.loads((link / "training.json").read_text())["n_train"] == 48
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert runs.filter(pl.col("chain") == CHAIN).height == 1
