"""The tiny grid through `snakemake --profile slurm` on a real one-node Slurm cluster, against a local run.

Each Slurm job costs seconds of overhead, so the grid is one seed, one loss: nine Slurm jobs. The strong model
finetunes with LoRA, so its ceiling and student are adapter checkpoints, trained and scored in Slurm jobs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
from slurm_cluster import slurm_cluster, slurm_two_nodes  # noqa: F401 (the fixtures)
from snakemake_helpers import (
    SLURM_PROFILE,
    assert_same_results,
    job_stats,
    snakemake,
    tiny_config,
    write_config,
)
from tolerance import assert_predictions_close

from w2s.models.lora import is_adapter_checkpoint

RUNS = (
    "weak/toy/seed0/weakling",
    "ceiling/toy/seed0/strongling",
    "student/toy/seed0/weakling/strongling/xent",
)

pytestmark = pytest.mark.workflow


def slurm_config() -> dict:
    config = tiny_config(losses={"xent": {"type": "xent"}})
    for entry in config["models"].values():
        # Fits the test node (the defaults ask for 8 GB per training job) and shows in each job's sbatch request.
        entry["resources"] = {"runtime": 7, "mem_mb": 1500}
    config["models"]["strongling"]["lora"] = {"r": 4}
    return config


# Not kernel_sensitive, nor the requeue test below: each compares a computation with the same computation (the same
# jobs, batches and threads, in another process), equal bit for bit on any kernel path; the resume that the
# requeue test relies on is checked on the portable kernels by tests/test_resume.py. Nor the two-node run: it is
# ZeRO-2 over two processes against the plain path, the computation tests/test_deepspeed.py's zero 2-2 case checks on
# the portable kernels in seconds (a sum of two ranks' gradients is the same in either order).
def test_tiny_grid_on_slurm_matches_a_local_run(slurm_cluster, tmp_path):  # noqa: F811
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    for workdir in (on_slurm, local):
        workdir.mkdir()
        write_config(workdir, slurm_config())

    # The local run goes alongside: the Slurm run spends most of its time waiting for the queue.
    with ThreadPoolExecutor(1) as pool:
        local_run = pool.submit(snakemake, local, "--cores", "2")
        result = snakemake(
            on_slurm,
            "--profile",
            str(SLURM_PROFILE),
            # Test-only settings: keep every job's Slurm log, and poll the queue 14 s after a submission or a finished
            # job instead of 40 s. The plugin waits 10 s longer after each poll that finds nothing finished, so the
            # polls come at 14, 38, 72 s: most jobs here take 6-12 s, the training jobs 15-25 s.
            "--slurm-init-seconds-before-status-checks",
            "14",
            "--slurm-keep-successful-logs",
            "--latency-wait",
            "5",
            env=slurm_cluster.env,
            timeout=300,
        )
        local_run.result()
    output = result.stdout + result.stderr
    # Snakemake runs `all` and the rules marked localrules itself, every other job through Slurm.
    planned = Counter(job_stats(output)) - Counter(
        re.findall(r"^localrule (\w+):", output, re.MULTILINE)
    )
    run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)

    # Every job went through Slurm, completed, and was a job Snakemake planned.
    jobs = [job for job in slurm_cluster.jobs() if job["name"] == run_id]
    assert {job["state"] for job in jobs} == {"COMPLETED"}
    rules = {
        job["id"]: job["comment"].removeprefix("rule_").split("_wildcards_")[0] for job in jobs
    }
    assert Counter(rules.values()) == planned and planned["train_student"] == 1
    logs = {path.stem for path in (on_slurm / ".snakemake/slurm_logs").rglob("*.log")}
    assert logs == set(rules)

    # Their requests came from the rules (summarize_runs) and the model entries (train_weak).
    def request(rule: str) -> str:
        return slurm_cluster.run(
            "scontrol", "show", "job", next(i for i, name in rules.items() if name == rule)
        )

    assert "TimeLimit=00:07:00" in request("train_weak") and "mem=1500M" in request("train_weak")
    assert "TimeLimit=00:10:00" in request("summarize_runs") and "mem=2000M" in request(
        "summarize_runs"
    )

    # Jobs in a Slurm allocation run in their own process; the local run hands its jobs to a warm worker (once one
    # is up). The same results, bit for bit: each job ran the same kernels on the same batches.
    def warm_logs(workdir):
        return [p for p in (workdir / "logs").rglob("*.log") if "warm start" in p.read_text()]

    assert not warm_logs(on_slurm) and warm_logs(local)
    assert_same_results(on_slurm, local, "results/labels/toy/seed0/weakling.parquet", RUNS)
    assert (on_slurm / "results/plots/pgr_xent.png").exists()
    assert is_adapter_checkpoint(on_slurm / "results" / RUNS[2] / "checkpoint")


def test_requeued_training_job_resumes_where_it_stopped(slurm_cluster, tmp_path):  # noqa: F811
    """A training job that Slurm requeues (as on preemption) restarts from its last resumable state and ends with
    the results of an uninterrupted run."""
    import subprocess
    import time

    from snakemake_helpers import REPO, SNAKEMAKE
    from test_resume import CEILING, long_ceiling_config

    reference, on_slurm = tmp_path / "reference", tmp_path / "slurm"
    for workdir in (reference, on_slurm):
        workdir.mkdir()
        config = long_ceiling_config(None)
        config["training"]["epochs"] = 8  # 256 steps: time to requeue the job while it trains
        for entry in config["models"].values():
            entry["resources"] = {"runtime": 7, "mem_mb": 1500}
        write_config(workdir, config)
    snakemake(reference, "--cores", "1", f"{CEILING}/metrics.json")

    command = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(on_slurm),
        "--configfile",
        str(on_slurm / "config.yaml"),
        "--profile",
        str(SLURM_PROFILE),
        "--slurm-init-seconds-before-status-checks",
        "5",
        "--latency-wait",
        "5",
        f"{CEILING}/metrics.json",
    ]
    process = subprocess.Popen(
        command,
        cwd=on_slurm,
        env=slurm_cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    latest = on_slurm / CEILING / "resume/latest"
    deadline = time.monotonic() + 240
    while not latest.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert latest.exists(), "the training job ended before it saved a resumable state"
    job = next(
        j
        for j in slurm_cluster.jobs()
        if "train_ceiling" in j["comment"] and j["state"] == "RUNNING"
    )
    slurm_cluster.run("scontrol", "requeue", job["id"])
    # Slurm holds a requeued job back for about two minutes before it may start again; let it start now.
    while next(j for j in slurm_cluster.jobs() if j["id"] == job["id"])["state"] != "PENDING":
        time.sleep(0.2)
    slurm_cluster.run("scontrol", "update", f"JobId={job['id']}", "StartTime=now")
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output

    log = (on_slurm / "logs/ceiling/toy/seed0/strongling.log").read_text()
    assert int(log.split("resumed from step ", 1)[1].split()[0]) > 0
    expected = json.loads((reference / CEILING / "metrics.json").read_text())
    got = json.loads((on_slurm / CEILING / "metrics.json").read_text())
    assert (got["accuracy"], got["auroc"], got["steps"]) == (
        expected["accuracy"],
        expected["auroc"],
        256,
    )
    # A resume replays the same batches with the same kernels: bit for bit.
    assert pl.read_parquet(on_slurm / CEILING / "test_predictions.parquet").equals(
        pl.read_parquet(reference / CEILING / "test_predictions.parquet")
    )


def test_two_node_deepspeed_training_matches_a_local_run(slurm_two_nodes, tmp_path):  # noqa: F811
    """A model entry with `nodes: 2` trains as one Slurm job over two nodes: srun starts a torchrun on each, they meet
    at the first node, and the run agrees with a plain local one."""
    ceiling = "results/ceiling/toy/seed0/strongling"
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    for workdir in (on_slurm, local):
        workdir.mkdir()
        config = slurm_config()
        del config["models"]["strongling"]["lora"]  # the whole model, partitioned over two nodes
        if workdir == on_slurm:
            config["models"]["strongling"].update(
                nodes=2, threads=1, deepspeed={"stage": 2, "processes_per_node": 1}
            )
        write_config(workdir, config)
    snakemake(local, "--cores", "2", f"{ceiling}/metrics.json")
    result = snakemake(
        on_slurm,
        "--profile",
        str(SLURM_PROFILE),
        "--slurm-init-seconds-before-status-checks",
        "5",
        "--latency-wait",
        "5",
        f"{ceiling}/metrics.json",
        env=slurm_two_nodes.env,
        timeout=300,
    )
    run_id = re.search(r"SLURM run ID: (\S+)", result.stdout + result.stderr).group(1)
    job = next(
        job
        for job in slurm_two_nodes.jobs()
        if job["name"] == run_id and "train_ceiling" in job["comment"]
    )
    details = slurm_two_nodes.run("scontrol", "show", "job", job["id"], "--oneliner")
    assert (
        "JobState=COMPLETED" in details
        and " NumNodes=2 " in details
        and " NodeList=n[1-2] " in details
    )

    log = (on_slurm / "logs/ceiling/toy/seed0/strongling.log").read_text()
    assert "srun --overlap --nodes=2 --ntasks=2" in log and "--nnodes=2 --rdzv_backend=c10d" in log
    assert log.count("training 3 steps") == 2  # one line from each node's process
    got, expected = (
        pl.read_parquet(w / ceiling / "test_predictions.parquet") for w in (on_slurm, local)
    )
    assert_predictions_close(got, expected, atol=1e-5)  # the DeepSpeed tests' tolerance
