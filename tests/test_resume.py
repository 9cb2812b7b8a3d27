"""Preemption: a training job killed with SIGKILL mid-run resumes from its saved state on the next run and ends
with the same results as an uninterrupted run: in one process, and under DeepSpeed with two processes (ZeRO-2 with
the optimizer offloaded to the CPU, ZeRO-3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import polars as pl
import pytest
from snakemake_helpers import LOCAL_ENV, REPO, SNAKEMAKE, snakemake, tiny_config, write_config

pytestmark = pytest.mark.workflow

CEILING = "results/ceiling/toy/seed0/strongling"


def long_ceiling_config(
    deepspeed: dict | None, lora: dict | None = None, autocast: str = "off", answers: bool = False
) -> dict:
    config = tiny_config()
    config["training"]["autocast"] = autocast
    config["datasets"]["toy"].update(n_strong_train=512)
    if answers:  # a generated-answer task: the causal LM itself trains, its output layer tied to its embedding
        config["worlds"] = {"kb": {"n_entities": 600, "digits": 1, "seed": 2, "corpus_lines": 500}}
        config["datasets"]["toy"] = {
            "kind": "world",
            "options": {"world": "kb", "format": "question"},
            "n_weak_train": 32,
            "n_strong_train": 512,
            "n_test": 32,
        }
        config["losses"] = {"xent": {"type": "xent"}}
    if deepspeed:
        config["models"]["strongling"]["deepspeed"] = deepspeed
    if lora:
        config["models"]["strongling"]["lora"] = lora
    config["training"].update(epochs=4, checkpoint_every=4, eval_every=0, log_every=8)  # 128 steps
    return config


# A resume compares a computation with itself (the same batches, kernels and process count): equal bit for bit on
# any kernel path, so only the plain case, on which the Slurm requeue test relies too, is rerun on the portable
# kernels in CI; the DeepSpeed cases resume through the same code with another state layout.
@pytest.mark.parametrize(
    "deepspeed,lora,autocast,answers",
    [
        pytest.param(None, None, "off", False, marks=pytest.mark.kernel_sensitive),
        ({"stage": 2, "processes_per_node": 2, "offload": True}, None, "off", False),
        ({"stage": 3, "processes_per_node": 2}, None, "off", False),
        # the state then holds the adapters and head alone
        ({"stage": 3, "processes_per_node": 2}, {"r": 4}, "off", False),
        # DeepSpeed's bf16 mode: the state holds the fp32 master weights, set again when the run resumes
        ({"stage": 2, "processes_per_node": 2}, None, "bf16", False),
        # generated answers: the state holds the causal LM, whose output layer is its embedding
        (None, None, "off", True),
    ],
    ids=["plain", "zero2x2-offload", "zero3x2", "lora-zero3x2", "zero2x2-bf16", "answers"],
)
def test_killed_training_resumes_and_matches_uninterrupted_run(
    tmp_path, deepspeed, lora, autocast, answers
):
    reference, preempted = tmp_path / "reference", tmp_path / "preempted"
    for workdir in (reference, preempted):
        workdir.mkdir()
        write_config(workdir, long_ceiling_config(deepspeed, lora, autocast, answers))
    cores = "2" if deepspeed else "1"
    snakemake(reference, "--cores", cores, f"{CEILING}/metrics.json")

    # Start the same run and kill Snakemake and its job (one process group, as a preempted node would) as soon as
    # the first resumable state is on disk.
    command = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(preempted),
        "--configfile",
        str(preempted / "config.yaml"),
        "--cores",
        cores,
        f"{CEILING}/metrics.json",
    ]
    process = subprocess.Popen(
        command,
        cwd=preempted,
        env=LOCAL_ENV,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    latest = preempted / CEILING / "resume/latest"
    deadline = time.monotonic() + 300
    while not latest.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert latest.exists(), "the run ended before it saved a resumable state"
    # Nothing trains on unseen (the job may have run in a fork of the warm worker, outside Snakemake's process
    # group): after a moment for the job's processes to die (each takes its children with it), neither the log
    # nor the resumable state changes, where a live run would log and save a new state many times a second.
    log = preempted / "logs/ceiling/toy/seed0/strongling.log"
    time.sleep(1)
    seen = latest.read_text(), log.stat().st_size
    time.sleep(2)
    assert (latest.read_text(), log.stat().st_size) == seen
    assert not (preempted / CEILING / "metrics.json").exists()
    if lora:  # the frozen base is the model's, as loaded: the state holds what trains
        shared = json.loads(
            (latest.parent / latest.read_text().strip() / "shared.json").read_text()
        )
        weights = [
            name
            for key, value in shared["__dict__"]
            if key == "model"
            for name, _ in value["__dict__"]
        ]
        assert weights and all("lora_" in name or name.startswith("head.") for name in weights), (
            weights
        )

    # Reporting progress more often does not change the run: the saved state still resumes.
    config = long_ceiling_config(deepspeed, lora, autocast, answers)
    config["training"]["log_every"] = 4
    write_config(preempted, config)
    snakemake(preempted, "--unlock")
    snakemake(preempted, "--cores", cores, "--rerun-incomplete", f"{CEILING}/metrics.json")
    log = (preempted / "logs/ceiling/toy/seed0/strongling.log").read_text()
    resumed_at = int(log.split("resumed from step ", 1)[1].split()[0])
    assert 0 < resumed_at < 128

    expected = json.loads((reference / CEILING / "metrics.json").read_text())
    got = json.loads((preempted / CEILING / "metrics.json").read_text())
    assert (got["accuracy"], got.get("auroc"), got["steps"]) == (
        expected["accuracy"],
        expected.get("auroc"),
        128,
    )
    # The resumed run replays the uninterrupted run's batches from the same weights, optimizer state and RNG, with
    # the same kernels on the same shapes: equal bit for bit, not just to rounding.
    predictions = [
        pl.read_parquet(w / CEILING / "test_predictions.parquet") for w in (reference, preempted)
    ]
    assert predictions[0].equals(predictions[1])
    assert not (preempted / CEILING / "resume").exists()
