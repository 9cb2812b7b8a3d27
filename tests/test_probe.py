"""Linear probes: a frozen backbone's cached activations and a trained head, through the real workflow."""

from __future__ import annotations

import json

import polars as pl
import pytest
from snakemake_helpers import REPORTING, planned_jobs, snakemake, tiny_config, write_config

PROBE = {"mode": "probe", "lr": 1e-2}


def probe_config() -> dict:
    config = tiny_config()
    for model in config["models"].values():
        model.update(PROBE)
    config["losses"] = {
        "xent": {"type": "xent"},
        "logconf": {"type": "logconf", "alpha_max": 0.5, "warmup_frac": 0.2},
    }
    return config


@pytest.mark.workflow
def test_probes_train_heads_on_cached_activations_and_never_change_the_backbone(tmp_path):
    write_config(tmp_path, probe_config())
    snakemake(tmp_path, "--cores", "2")
    # one activations job per model and split it reads: weakling (weak_train, strong_train to label, test),
    # strongling (strong_train for ceiling and both students, test)
    activations = sorted(
        p.relative_to(tmp_path / "results/activations/toy/seed0").as_posix()
        for p in (tmp_path / "results/activations").rglob("*.safetensors")
    )
    assert activations == [
        "strongling/strong_train.safetensors",
        "strongling/test.safetensors",
        "weakling/strong_train.safetensors",
        "weakling/test.safetensors",
        "weakling/weak_train.safetensors",
    ]
    for run, base in (
        ("weak/toy/seed0/weakling", "weakling"),
        ("ceiling/toy/seed0/strongling", "strongling"),
        ("student/toy/seed0/weakling/strongling/logconf", "strongling"),
    ):
        checkpoint = tmp_path / "results" / run / "checkpoint"
        built = tmp_path / "results/base_models" / base / "model.safetensors"
        assert (
            checkpoint / "model.safetensors"
        ).read_bytes() == built.read_bytes()  # frozen: the same bytes
        assert (checkpoint / "head.safetensors").exists()
        metrics = json.loads((tmp_path / "results" / run / "metrics.json").read_text())
        assert metrics["n"] == 32 and 0 <= metrics["accuracy"] <= 1
    log = (tmp_path / "logs/student/toy/seed0/weakling/strongling/xent.log").read_text()
    assert "(linear probe): 48 training examples" in log
    labels = pl.read_parquet(tmp_path / "results/labels/toy/seed0/weakling.parquet")
    assert labels.height == 48 and labels["soft_label"].n_unique() > 1  # the head learnt something
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert runs["mode"].to_list() == ["probe", "probe"]
    # another loss reuses the cached activations: no activations job, no backbone work
    config = probe_config()
    config["losses"]["product"] = {"type": "product", "alpha": 1.0, "beta": 1.0}
    write_config(tmp_path, config)
    assert planned_jobs(tmp_path) == {"train_student": 1, **REPORTING}
