"""Cluster resources of each rule's jobs: the defaults, a model entry's GPUs, nodes and overrides, the profile's."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import pytest
import torch
import yaml
from snakemake_helpers import SLURM_PROFILE, snakemake, tiny_config, write_config

from w2s.errors import W2SError
from w2s.pipeline import cluster
from w2s.pipeline.config import validate_config
from w2s.pipeline.memory import HOST_MARGIN, PROCESS_OVERHEAD
from w2s.pipeline.model_shapes import model_shape
from w2s.training.runtime import use_threads


def config_with(**weakling) -> dict:
    config = tiny_config()
    config["models"]["weakling"].update(weakling)
    return validate_config(config)


def test_defaults():
    config = config_with()
    for stage in ("train_weak", "train_ceiling", "train_student"):
        assert cluster.job_resources(config, "weakling", stage) == {
            "runtime": 240,
            "mem_mb": 8000,
            "cpus_per_task": 1,
        }
    assert cluster.job_resources(config, "weakling", "label_strong_train") == {
        "runtime": 60,
        "mem_mb": 8000,
        "cpus_per_task": 1,
    }
    assert cluster.job_resources(config, "weakling", "build_base_model") == {
        "runtime": 15,
        "mem_mb": 4000,
        "cpus_per_task": 1,
    }
    assert cluster.job_resources(config, None, "split_dataset") == {
        "runtime": 30,
        "mem_mb": 4000,
        "cpus_per_task": 1,
    }
    for stage in ("summarize_runs", "plot_results"):
        assert cluster.job_resources(config, None, stage) == {
            "runtime": 10,
            "mem_mb": 2000,
            "cpus_per_task": 1,
        }
    entry = config["models"]["weakling"]
    assert (entry["gpus"], entry["nodes"], entry["resources"]) == (0, 1, {})


def test_cpus_follow_the_model_threads():
    config = config_with(threads=6)
    assert cluster.job_resources(config, "weakling", "train_weak")["cpus_per_task"] == 6
    assert cluster.job_resources(config, "weakling", "build_base_model")["cpus_per_task"] == 6
    assert cluster.job_resources(config, "strongling", "train_weak")["cpus_per_task"] == 1


def test_a_gpu_job_gets_cpus_per_gpu_unless_its_threads_are_set():
    """One CPU for a 4-GPU ZeRO-3 job would put 4 processes on one core."""
    config = config_with(gpus=4, deepspeed={"stage": 3})
    assert cluster.job_resources(config, "weakling", "train_weak")["cpus_per_task"] == 16
    assert cluster.job_resources(config, "weakling", "label_strong_train")["cpus_per_task"] == 16
    assert (
        cluster.job_resources(config_with(gpus=1), "weakling", "train_weak")["cpus_per_task"] == 4
    )
    assert (
        cluster.job_resources(config_with(gpus=2, threads=3), "weakling", "train_weak")[
            "cpus_per_task"
        ]
        == 3
    )


@pytest.mark.parametrize(("local_world", "threads"), [(None, 16), ("1", 16), ("4", 4), ("32", 1)])
def test_a_jobs_threads_are_shared_among_its_processes_on_the_node(
    local_world, threads, monkeypatch
):
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    if local_world:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", local_world)
    before = torch.get_num_threads()
    try:
        use_threads(16)
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)


def test_a_gpu_jobs_host_memory_follows_from_its_model_size():
    """gpt2-xl's shape: a resumable state copies its weights and Adam's moments to host memory (12 bytes a
    parameter), which the 8 GB default would not hold; each of a launcher's processes loads the whole model."""
    xl = {
        "arch": "gpt2",
        "hidden_size": 1600,
        "num_layers": 48,
        "num_heads": 25,
        "max_position": 1024,
    }
    config = config_with(gpus=1, build=xl)
    n = model_shape(config, "weakling")[0].params
    assert 1.4e9 < n < 1.6e9  # gpt2-xl's layers, a byte vocabulary
    train = cluster.job_resources(config, "weakling", "train_weak")["mem_mb"]
    assert train == math.ceil((12 * n + PROCESS_OVERHEAD) * HOST_MARGIN / 1e6)
    label = cluster.job_resources(config, "weakling", "label_strong_train")["mem_mb"]
    assert label == math.ceil((4 * n + PROCESS_OVERHEAD) * HOST_MARGIN / 1e6)
    four = config_with(gpus=4, build=xl, deepspeed={"stage": 3})
    assert cluster.job_resources(four, "weakling", "label_strong_train")["mem_mb"] == math.ceil(
        4 * (4 * n + PROCESS_OVERHEAD) * HOST_MARGIN / 1e6
    )
    # a CPU job keeps the stage's default, and an entry's own mem_mb wins
    assert cluster.job_resources(config_with(build=xl), "weakling", "train_weak")["mem_mb"] == 8000
    own = config_with(gpus=1, build=xl, resources={"mem_mb": 123})
    assert cluster.job_resources(own, "weakling", "train_weak")["mem_mb"] == 123


def test_runtime_requests_are_capped_at_the_clusters_limit():
    """A 48-hour request on partitions that grant 24 hours is refused; capped, a training job resumes its state."""
    config = config_with(gpus=1, resources={"runtime": 2880})
    assert cluster.job_resources(config, "weakling", "train_weak")["runtime"] == 1440
    config["cluster"]["max_runtime"] = 600
    assert cluster.job_resources(config, "weakling", "label_strong_train")["runtime"] == 600
    assert cluster.job_resources(config, None, "split_dataset")["runtime"] == 30


def test_a_gpu_prediction_jobs_runtime_comes_from_its_own_flops():
    """A labelling, test-shard or zero-shot job on GPUs asks for its FLOPs' minutes at the planned utilisation (times
    a margin, plus start-up), not its model's training runtime; a CPU model's keeps the entry's runtime."""
    config = config_with(gpus=1, resources={"runtime": 1440})
    w = SimpleNamespace(model="weakling", dataset="toy")
    resources = cluster.rule_resources(config, "label_strong_train")
    assert cluster.job_resources(config, "weakling", "train_weak")["runtime"] == 1440
    assert resources["runtime"](w) == 60  # a tiny model: the stage's default
    # on a GPU 1e11 times slower, the FLOPs' minutes count: twice the test rows, twice the minutes
    config["cluster"]["gpu_tflops"] = 1e-8
    minutes = {}
    for n_test in (32, 64):
        config["datasets"]["toy"]["n_test"] = n_test
        minutes[n_test] = cluster.rule_resources(config, "predict_test")["runtime"](w)
    start = cluster.PREDICTION_START_MINUTES
    assert 60 < minutes[32] < 1440
    assert minutes[64] - start == pytest.approx(2 * (minutes[32] - start), abs=1)
    config["cluster"]["gpu_tflops"] = 1e-11  # never more than the entry's runtime
    assert cluster.rule_resources(config, "score_zero_shot")["runtime"](w) == 1440
    cpu = config_with(resources={"runtime": 45})
    assert cluster.rule_resources(cpu, "label_strong_train")["runtime"](w) == 45


def test_gpu_request():
    config = config_with(gpus=2)
    for stage in ("train_weak", "train_student", "label_strong_train"):
        resources = cluster.job_resources(config, "weakling", stage)
        assert resources["gpu"] == 2  # the plugin's --gpus=2
        assert not {"gres", "nodes", "tasks", "slurm_extra"} & set(resources)
    assert "gpu" not in cluster.job_resources(
        config, "weakling", "build_base_model"
    )  # builds on the CPU
    assert "gpu" not in cluster.job_resources(config, "strongling", "train_weak")


def test_multi_node_request():
    config = config_with(gpus=4, nodes=2)
    resources = cluster.job_resources(config, "weakling", "train_weak")
    # --gres is per node (--gpus would be the job's total); one task per node, which starts the GPUs' processes.
    assert resources["nodes"] == 2 and resources["gres"] == "gpu:4"
    assert resources["slurm_extra"] == "--ntasks-per-node=1"
    assert (
        "gpu" not in resources and "tasks" not in resources
    )  # with a GPU, the plugin reads tasks per GPU
    assert not {"nodes", "gres"} & set(
        cluster.job_resources(config, "weakling", "build_base_model")
    )

    cpu_only = cluster.job_resources(config_with(nodes=3), "weakling", "train_ceiling")
    assert cpu_only["nodes"] == 3 and cpu_only["tasks"] == 3 and "gres" not in cpu_only
    assert cpu_only["slurm_extra"] == "--ntasks-per-node=1"


def test_config_override():
    own = {
        "runtime": 30,
        "mem_mb": 64000,
        "partition": "gpu",
        "account": "lab",
        "constraint": "a100",
        "slurm_extra": "--qos=long",
    }
    config = config_with(threads=8, gpus=4, nodes=2, resources=own)
    assert cluster.job_resources(config, "weakling", "train_student") == {
        "runtime": 30,
        "mem_mb": 64000,
        "cpus_per_task": 8,
        "slurm_partition": "gpu",
        "slurm_account": "lab",
        "constraint": "a100",
        "nodes": 2,
        "gres": "gpu:4",
        "slurm_extra": "--ntasks-per-node=1 --qos=long",
    }
    assert cluster.job_resources(config, "weakling", "build_base_model") == {
        "runtime": 30,
        "mem_mb": 64000,
        "cpus_per_task": 8,
        "slurm_partition": "gpu",
        "slurm_account": "lab",
        "constraint": "a100",
        "slurm_extra": "--qos=long",
    }
    assert cluster.job_resources(config, "strongling", "train_student") == {
        "runtime": 240,
        "mem_mb": 8000,
        "cpus_per_task": 1,
    }


def test_rule_resources_are_per_model():
    config = config_with(gpus=1, resources={"partition": "gpu"})
    resources = cluster.rule_resources(config, "train_weak")
    assert set(resources) == {"runtime", "mem_mb", "cpus_per_task", "gpu", "slurm_partition"}
    weak, strong = SimpleNamespace(model="weakling"), SimpleNamespace(model="strongling")
    assert {name: value(weak) for name, value in resources.items()} == {
        "runtime": 240,
        "mem_mb": 8000,
        "cpus_per_task": 4,  # CPUS_PER_GPU
        "gpu": 1,
        "slurm_partition": "gpu",
    }
    # None: Snakemake leaves the resource out of the job.
    assert resources["gpu"](strong) is None and resources["slurm_partition"](strong) is None
    # A resource no model sets is not the rule's, so the profile's default-resources still applies.
    assert "slurm_partition" not in cluster.rule_resources(config_with(), "train_weak")
    assert cluster.rule_resources(config, "plot_results") == {
        "runtime": 10,
        "mem_mb": 2000,
        "cpus_per_task": 1,
    }


@pytest.mark.parametrize(
    "entry, key",
    [
        ({"gpus": -1}, "models.weakling.gpus"),
        ({"nodes": 0}, "models.weakling.nodes"),
        ({"resources": {"time": 10}}, "models.weakling.resources"),
        ({"resources": {"runtime": "2h"}}, "models.weakling.resources.runtime"),
    ],
)
def test_bad_resources_are_named(entry, key):
    config = tiny_config()
    config["models"]["weakling"].update(entry)
    with pytest.raises(W2SError, match=re.escape(f"config key {key}:")):
        validate_config(config)


def test_profile():
    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["jobs"] >= 1
    assert profile["slurm-status-command"] == "squeue"  # sacct needs slurmdbd
    assert set(profile["default-resources"]) == {"runtime", "mem_mb"}


def job_resources_in_plan(output: str) -> dict[str, dict[str, str]]:
    """Rule -> the resources of its first job in a dry run's output."""
    lines = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", output, re.MULTILINE)
    return {
        rule: dict(item.split("=", 1) for item in line.split(", "))
        for rule, line in reversed(lines)
    }


def test_rules_take_model_resources_and_set_resources_wins(tmp_path):
    config = tiny_config(labelling={"shards": 2})  # labelling jobs of their own
    config["models"]["weakling"].update(threads=2, resources={"runtime": 45, "partition": "small"})
    write_config(tmp_path, config)
    result = snakemake(
        tmp_path, "--dry-run", "--cores", "2", "--set-resources", "train_weak:runtime=99"
    )
    plan = job_resources_in_plan(result.stdout + result.stderr)
    assert plan["train_weak"] | {"tmpdir": "-"} == {
        "tmpdir": "-",
        "runtime": "99",
        "cpus_per_task": "2",
        "slurm_partition": "small",
        "mem_mb": "8000",
        "mem": "8 GB",
        "mem_mib": "7630",
    }
    assert (
        plan["label_strong_train"]["runtime"] == "45"
        and plan["label_strong_train"]["cpus_per_task"] == "2"
    )
    assert (
        plan["train_ceiling"]["runtime"] == "240" and "slurm_partition" not in plan["train_ceiling"]
    )
    assert (plan["summarize_runs"]["runtime"], plan["summarize_runs"]["mem_mb"]) == ("10", "2000")
