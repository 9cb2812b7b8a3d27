"""A grid of hub models and hub datasets on a cluster whose compute nodes cannot reach the hub: `w2s fetch` on the
"login node" (this process, which reaches the local hub), then `snakemake --profile slurm` with the hub offline and
out of reach in every job; the small jobs of each dataset and seed packed into one Slurm submission."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from slurm_cluster import slurm_cluster  # noqa: F401 (the fixture)
from snakemake_helpers import (
    LOCAL_ENV,
    REPORTING,
    SLURM_PROFILE,
    assert_same_results,
    job_stats,
    planned_jobs,
    snakemake,
    tiny_config,
    write_config,
)

from w2s.pipeline.cluster import runs_locally
from w2s.pipeline.config import validate_config
from w2s.pipeline.dry_run_jobs import parse_jobs, submissions
from w2s.pipeline.plan import describe_plan, submission_cores

RUNS = (
    "weak/sciq/seed0/weakling",
    "ceiling/sciq/seed0/strongling",
    "student/sciq/seed0/weakling/strongling/xent",
)

pytestmark = pytest.mark.workflow


def offline_grid(revision: str = "step1") -> dict:
    """The weak model a hub model at a branch, the task a hub dataset; every model packs its jobs."""
    config = tiny_config(
        losses={"xent": {"type": "xent"}},
        datasets={"sciq": {"kind": "sciq", "n_weak_train": 6, "n_strong_train": 6, "n_test": 6}},
    )
    config["models"]["weakling"] = {
        "path": "w2s-test/tiny-lm",
        "revision": revision,
        "lr": 1e-3,
        "batch_size": 6,
        "minibatch_size": 6,
        "max_length": 48,
    }
    for entry in config["models"].values():
        entry["resources"] = {"runtime": 5, "mem_mb": 1000}
        entry["pack"] = True
    return config


@pytest.mark.usefixtures("hub_tasks", "hub_models")
def test_fetch_then_an_offline_packed_slurm_run_matches_a_local_one(slurm_cluster, tmp_path):  # noqa: F811
    from conftest import HUB

    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    for workdir in (on_slurm, local):
        workdir.mkdir()
        write_config(workdir, offline_grid())
    cache = {
        "HF_HUB_CACHE": str(tmp_path / "hub_cache"),
        "HF_DATASETS_CACHE": str(tmp_path / "datasets_cache"),
    }

    # The login node: fetch every hub repository the grid loads.
    fetch = subprocess.run(
        [sys.executable, "-m", "w2s.cli", "fetch", "config.yaml", "--cache-dir", "../hub_cache"],
        cwd=on_slurm,
        capture_output=True,
        text=True,
        env={**LOCAL_ENV, "HF_ENDPOINT": HUB.url},
    )
    assert fetch.returncode == 0, fetch.stderr
    assert fetch.stdout.count(", verified: ") == 2, fetch.stdout
    assert f"into {tmp_path / 'hub_cache'}" in fetch.stdout

    # The compute nodes: the hub set offline, and its address one that nothing answers.
    offline = {**cache, "HF_HUB_OFFLINE": "1", "HF_ENDPOINT": "http://127.0.0.1:9"}
    asked = len(HUB.requests)
    plan = snakemake(
        on_slurm, "--dry-run", "--profile", str(SLURM_PROFILE), env={**slurm_cluster.env, **offline}
    )
    planned = parse_jobs(plan.stdout + plan.stderr)
    packed, unpacked = submissions(planned)
    with ThreadPoolExecutor(1) as pool:
        local_run = pool.submit(snakemake, local, "--cores", "2", env={**LOCAL_ENV, **offline})
        result = snakemake(
            on_slurm,
            "--profile",
            str(SLURM_PROFILE),
            "--slurm-init-seconds-before-status-checks",
            "14",
            "--latency-wait",
            "5",
            "--cores",  # the profile's node size, here 1 CPU: the pack runs its parallel jobs one after another
            "1",
            env={**slurm_cluster.env, **offline},
            timeout=300,
        )
        local_run.result()
    assert len(HUB.requests) == asked  # no job asked the hub for anything
    assert (
        f"cluster submissions: {packed} with packing (weakling, strongling packed), {unpacked} without"
        in describe_plan(validate_config(offline_grid()), planned)
    )

    # The packed dataset-and-seed group is one submission: fewer submissions than jobs.
    output = result.stdout + result.stderr
    run_id = re.search(r"SLURM run ID: (\S+)", output).group(1)
    jobs = [job for job in slurm_cluster.jobs() if job["name"] == run_id]
    assert {job["state"] for job in jobs} == {"COMPLETED"}
    # build the strong model; the group (split, weak, ceiling, student); summary; plots: w2s plan's count
    assert (len(jobs), packed, unpacked) == (4, 4, 7)
    (pack,) = [
        job
        for job in jobs
        if job["comment"]
        == "rule_pack_sciq_seed0_split_dataset_train_ceiling_train_student_train_weak"
    ]
    # its weak and ceiling jobs could run side by side (2 CPUs); past the profile's cores they run in series
    assert pack["cpus"] == "1"
    # what Slurm was asked for is what w2s plan says the pack asks for
    cores = submission_cores(["--profile", str(SLURM_PROFILE), "--cores", "1"])
    plan_text = describe_plan(validate_config(offline_grid()), planned, cores)
    minutes, mem, cpus = re.search(
        r"^  4 jobs: -t (\d+) --mem (\d+)M --cpus-per-task (\d+) \(x1\)$", plan_text, re.MULTILINE
    ).groups()
    details = slurm_cluster.run("scontrol", "show", "job", pack["id"], "--oneliner")
    hours, mins, secs = re.search(r" TimeLimit=(\d+):(\d+):(\d+) ", details).groups()
    assert (int(hours) * 60 + int(mins), int(secs)) == (int(minutes), 0)
    assert f" MinMemoryNode={mem}M " in details and f" NumCPUs={cpus} " in details
    assert (
        int(minutes) > 3 * 5
    )  # the split, then the weak and ceiling runs one after the other, then the student
    local_rules = set(re.findall(r"^localrule (\w+):", output, re.MULTILINE))
    assert local_rules == {rule for rule in job_stats(output) if runs_locally(rule)}
    assert job_stats(output)["train_student"] == 1

    assert_same_results(on_slurm, local, "results/labels/sciq/seed0/weakling.parquet", RUNS)

    # Another revision of the weak model reruns that model's runs and what reads them, nothing else.
    write_config(local, offline_grid(revision="main"))
    assert planned_jobs(local) == {"train_weak": 1, "train_student": 1, **REPORTING}
