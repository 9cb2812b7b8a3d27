"""`w2s plan`: the jobs of a dry run, the hours they request, and the checkpoints' disk, checked against the run."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from snakemake_helpers import LOCAL_ENV, REPO, planned_jobs, snakemake, tiny_config, write_config

from w2s.pipeline.fetch import human

pytestmark = pytest.mark.workflow


def w2s_plan(workdir, *snakemake_args: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "w2s.cli",
            "plan",
            "config.yaml",
            "-s",
            str(REPO / "Snakefile"),
            *(["--", *snakemake_args] if snakemake_args else []),
        ],
        cwd=workdir,
        env=LOCAL_ENV,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def weight_bytes(path) -> int:
    """A safetensors file's tensor bytes, without its header (which a tiny model's names make a large share of)."""
    with open(path, "rb") as f:
        return path.stat().st_size - 8 - int.from_bytes(f.read(8), "little")


def table(text: str) -> dict[str, tuple[int, float, float]]:
    rows = re.findall(r"^(\w+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s*$", text, re.MULTILINE)
    return {rule: (int(jobs), float(cpu), float(gpu)) for rule, jobs, cpu, gpu in rows}


def test_plan_counts_jobs_hours_and_the_disk_of_checkpoints(tmp_path):
    config = tiny_config(
        losses={"xent": {"type": "xent"}, "logconf": {"type": "logconf"}},
        keep_checkpoints=["ceiling"],
    )
    config["models"]["strongling"].update(
        gpus=2, resources={"runtime": 90}
    )  # 1.5 h x 2 GPUs per training job
    config["models"]["weakling"]["lora"] = {"r": 2}
    write_config(tmp_path, config)
    text = w2s_plan(tmp_path)
    rows = table(text)
    expected_jobs = planned_jobs(tmp_path)
    assert {rule: n for rule, (n, _, _) in rows.items() if rule != "total"} == expected_jobs
    assert rows["total"][0] == sum(expected_jobs.values())
    assert (
        rows["train_ceiling"][2] == 3.0
        and rows["train_student"][2] == 6.0
        and rows["train_weak"][2] == 0.0
    )
    assert rows["train_student"][1] == 24.0  # two jobs of 90 minutes on 8 CPUs each (4 per GPU)
    # each GPU job kind's memory per process, set against the cluster's GPU (a CPU job's has none)
    assert re.search(r"^  strongling training: [\d.]+ fits \(weights", text, re.MULTILINE)
    assert "weakling training" not in text
    # the GPU jobs' FLOPs as GPU-hours, beside those they request (the table's GPU-hours)
    flops = re.search(r"^  total: ([\d.e+-]+) \(requested ([\d.]+)\)$", text, re.MULTILINE)
    assert float(flops.group(2)) == rows["total"][2] and 0 < float(flops.group(1)) < float(
        flops.group(2)
    )
    # each kind of submission's request, as sbatch gets it
    assert "  train_student strongling: -t 90 --mem 8000M --cpus-per-task 8 --gpus 2 (x2)" in text
    # Snakemake's own arguments after --, as a profile's set-resources would change the request
    assert (
        table(w2s_plan(tmp_path, "--set-resources", "train_weak:runtime=30"))["train_weak"][1]
        == 0.5
    )

    snakemake(tmp_path, "--cores", "2")
    # The parameter counts are those of the checkpoints the runs wrote (LoRA: base, adapters and head).
    for model, run in (
        ("weakling", "weak/toy/seed0/weakling"),
        ("strongling", "ceiling/toy/seed0/strongling"),
    ):
        n_params = json.loads((tmp_path / "results" / run / "training.json").read_text())[
            "n_params"
        ]
        assert f"{model}: {n_params:,} parameters" in text
    # Kept: the weak model's adapters and head, and the ceiling's weights (fp32); the students' were deleted.
    kept = sum(
        weight_bytes(f)
        for run in ("weak/toy/seed0/weakling", "ceiling/toy/seed0/strongling")
        for f in (tmp_path / "results" / run / "checkpoint").glob("*.safetensors")
    )
    estimate = re.search(r"kept at the end: ([\d.]+) (\w+)", text)
    assert abs(float(estimate.group(1)) - float(human(kept).split()[0])) <= 0.01 * float(
        estimate.group(1)
    )
    assert estimate.group(2) == human(kept).split()[1]
    assert not any((tmp_path / "results/student/toy/seed0/weakling/strongling").rglob("checkpoint"))
    assert "nothing to do" in w2s_plan(tmp_path)


def test_a_reward_models_size_counts_its_one_output_head():
    """A comparison dataset's models are reward models: the plan counts their head of one output, as built."""
    from transformers import AutoModel

    from w2s.data.tokenizers import byte_tokenizer
    from w2s.models.build import model_config
    from w2s.models.classifier import Classifier
    from w2s.models.reward import RewardModel
    from w2s.pipeline.config import read_config_file, validate_config
    from w2s.pipeline.dry_run_jobs import head_outputs
    from w2s.pipeline.model_shapes import model_shape

    rm_config = validate_config(read_config_file(REPO / "configs/reward_model.yaml"))
    assert head_outputs(rm_config, "folk_preferences") == 1
    config = validate_config(tiny_config())
    assert head_outputs(config, "toy") == 2
    shape = config["models"]["weakling"]["build"]
    backbone = AutoModel.from_config(
        model_config(
            shape["arch"],
            shape["hidden_size"],
            shape["num_layers"],
            shape["num_heads"],
            shape.get("max_position", 256),
            byte_tokenizer(),
        )
    )
    for model in (Classifier, RewardModel):
        built = sum(p.numel() for p in model(backbone).parameters())
        shape, stored = model_shape(config, "weakling", model.head_outputs)
        assert (shape.params, shape.trained, stored) == (built, built, built)


def test_a_gpu_job_that_cannot_fit_is_named_with_the_change_that_fits(tmp_path):
    """A GPT-2 of 256 x 4 layers at 16 rows of 1024 tokens in fp32 keeps ~2.3 GiB of activations (~0.6 GiB with
    gradient checkpointing): on a GPU of 2.5 GiB, of which jobs plan 90%, it fits with checkpointing only."""
    config = tiny_config(cluster={"gpu_memory_gib": 2.5})
    build = {
        "arch": "gpt2",
        "hidden_size": 256,
        "num_layers": 4,
        "num_heads": 4,
        "max_position": 1024,
    }
    config["models"]["strongling"].update(gpus=1, build=build, max_length=1024)
    write_config(tmp_path, config)
    text = w2s_plan(tmp_path)
    line = re.search(
        r"^  strongling training: ([\d.]+) DOES NOT FIT.*\n    (.*)$", text, re.MULTILINE
    )
    assert line and float(line.group(1)) > 0.9 * 2.5
    assert re.match(
        r"fits with models.strongling.gradient_checkpointing: True: [\d.]+ GiB$", line.group(2)
    )
