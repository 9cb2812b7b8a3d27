"""Running the real workflow from tests: a tiny config in a temporary working directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
# The repository's Slurm profile: `--profile slurm` only finds it from the repository root, so pass this path.
SLURM_PROFILE = REPO / "slurm"
# Every Snakemake start imports the Slurm executor plugin, which asks `scontrol show config` for the cluster's
# settings; where the Slurm client is installed but no controller answers (as in CI), that waits ~9 s to fail.
# Runs that use no Slurm get a `scontrol` that fails at once (the Slurm tests pass their cluster's environment).
LOCAL_ENV = {
    **os.environ,
    "PATH": f"{REPO / 'tests/no_slurm'}{os.pathsep}{os.environ.get('PATH', '')}",
}


def tiny_config(**overrides) -> dict:
    """Two tiny built models, a small synthetic task, two losses, one seed: the whole grid in seconds per job."""
    config = {
        "seeds": [0],
        "datasets": {
            "toy": {
                "kind": "synthetic",
                "options": {"n_rows": 2000, "length": 6},
                "n_weak_train": 48,
                "n_strong_train": 48,
                "n_test": 32,
            }
        },
        "models": {
            "weakling": {
                "build": {
                    "arch": "gpt2",
                    "hidden_size": 8,
                    "num_layers": 1,
                    "num_heads": 2,
                    "max_position": 64,
                },
                "lr": 1e-3,
                "batch_size": 16,
                "minibatch_size": 8,
                "max_length": 48,
            },
            "strongling": {
                "build": {
                    "arch": "gpt2",
                    "hidden_size": 16,
                    "num_layers": 1,
                    "num_heads": 2,
                    "max_position": 64,
                },
                "lr": 1e-3,
                "batch_size": 16,
                "minibatch_size": 16,
                "max_length": 48,
            },
        },
        "losses": {
            "xent": {"type": "xent"},
            "logconf": {"type": "logconf", "alpha_max": 0.5, "warmup_frac": 0.2},
        },
        # fp32: the tests compare runs made under other batchings (shards, processes) to float rounding, which
        # bf16 (autocast auto's choice on a CPU with bf16 instructions) would not hold to
        "training": {"epochs": 1, "eval_every": 2, "log_every": 1, "autocast": "off"},
        # The tests open checkpoints and add stages (test shards, chains) to finished grids, which need them;
        # tests/test_pipeline.py checks the default, which deletes them.
        "keep_checkpoints": True,
    }
    config.update(overrides)
    return config


def write_config(workdir: Path, config: dict, name: str = "config.yaml") -> Path:
    path = workdir / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(
    workdir: Path,
    *args: str,
    config: str = "config.yaml",
    check: bool = True,
    env: dict | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    command = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(workdir / config),
        *args,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=workdir, env=env or LOCAL_ENV, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
            f"{failed_job_logs(workdir, result.stderr)}"
        )
    return result


def failed_job_logs(workdir: Path, stderr: str, tail: int = 6000) -> str:
    """The logs of the jobs that failed: the worker's own output (a traceback) is there, not in Snakemake's."""
    logs = re.findall(r"^\s*log: (\S+) \(check log file", stderr, flags=re.MULTILINE)
    text = ""
    for log in dict.fromkeys(logs):
        path = workdir / log
        if path.is_file():
            text += f"\n--- {log} (last {tail} characters) ---\n{path.read_text()[-tail:]}"
    return text


# The jobs that follow any change to a run: the summary, the analyses, the plots and the target rule.
REPORTING = {
    "summarize_runs": 1,
    "analyse_agreement": 1,
    "analyse_calibration": 1,
    "analyse_trajectories": 1,
    "analyse_scaling": 1,
    "analyse_groups": 1,
    "analyse_gains": 1,
    "plot_results": 1,
    "write_report_page": 1,
    "all": 1,
}


def planned_jobs(workdir: Path, config: str = "config.yaml") -> dict[str, int]:
    """Rule -> number of jobs a dry run plans (empty when there is nothing to do)."""
    result = snakemake(workdir, "--dry-run", "--cores", "1", config=config)
    return job_stats(result.stdout + result.stderr)


def job_stats(output: str) -> dict[str, int]:
    """Rule -> number of jobs, from the "Job stats" table Snakemake prints before it runs (or dry-runs) a plan."""
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {
        rule: int(count) for rule, count in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.MULTILINE)
    }


def assert_same_results(one: Path, other: Path, labels: str, runs: tuple[str, ...]) -> None:
    """Two workdirs of one grid hold the same weak labels and the same test accuracy for each run."""
    import json

    import polars as pl

    assert pl.read_parquet(one / labels).equals(pl.read_parquet(other / labels))
    for run in runs:
        accuracy = [
            json.loads((workdir / "results" / run / "metrics.json").read_text())["accuracy"]
            for workdir in (one, other)
        ]
        assert accuracy[0] == accuracy[1], run


def train_settings(**overrides):
    """A run's recipe as a validated config gives it (the schema's defaults: the one place they live), seed 0,
    with `overrides`."""
    from w2s.pipeline.config import validate_config
    from w2s.pipeline.grid import untracked_job_settings
    from w2s.pipeline.rule_params import training_params
    from w2s.training.settings import TrainSettings

    build = tiny_config()["models"]["weakling"]["build"]
    models = {"plain": {"build": build}, "other": {"build": build}}
    config = validate_config(tiny_config(training={}, models=models))
    settings = training_params(config, "plain", "toy", 0).settings
    progress = untracked_job_settings(config, "plain")["progress"]
    return TrainSettings(**{**settings, **progress, **overrides})


LOGCONF = {"type": "logconf", "alpha_max": 0.5, "warmup_frac": 0.2}


def job_training_params(source, max_length: int, seed: int = 0, **settings):
    """A weak run's training params as w2s.pipeline.rule_params.training_params builds them: `base`, 4 epochs of
    batch 8 in minibatches of 4 at lr 1e-2, evaluated every 3 steps; `settings` overrides the recipe."""
    import dataclasses

    from w2s.records.params import TrainingParams

    return TrainingParams(
        source=str(source),
        dtype="float32",
        head_init="zero",
        label_tokens=None,
        trust_remote_code=False,
        max_length=max_length,
        settings={
            **dataclasses.asdict(train_settings()),
            "lr": 1e-2,
            "batch_size": 8,
            "minibatch_size": 4,
            "seed": seed,
            "epochs": 4,
            "optimizer": "adam",
            "weight_decay": 0.0,
            "schedule": "cosine",
            "warmup_frac": 0.1,
            "eval_every": 3,
            "log_every": 2,
            "autocast": "off",
            **settings,
        },
        predict_batch_size=7,
        deepspeed=None,
    )


def finetune_directly(
    data,
    folder,
    base,
    *,
    lr: float,
    max_length: int,
    deepspeed=None,
    lora=None,
    target_column: str = "label",
    loss: dict = LOGCONF,
    autocast: str = "off",
    **params,
) -> dict:
    """A training rule's job called directly (w2s.process.launch.finetune_job), the way the rule calls it: a weak run
    of `base` (by default with logconf) on `data`/train.parquet scored on `data`/test.parquet, 2 epochs of batch 12 in
    minibatches of 4 (on 44 examples the last batch of each epoch is short, the minibatches uneven), outputs in
    `folder`. `params`: more of the job's params (pairs, answers). Returns the outputs' paths."""
    import dataclasses

    from w2s.process.launch import finetune_job
    from w2s.records.params import TrainingParams

    out = {
        key: str(Path(folder) / file)
        for key, file in (
            ("checkpoint", "checkpoint"),
            ("metrics", "metrics.json"),
            ("predictions", "predictions.parquet"),
            ("trajectory", "trajectory.jsonl"),
            ("training", "training.json"),
        )
    }
    settings = {
        **dataclasses.asdict(train_settings()),
        "lr": lr,
        "batch_size": 12,
        "minibatch_size": 4,
        "seed": 0,
        "epochs": 2,
        "autocast": autocast,
        "log_every": 4,
        "eval_every": 0,
        "checkpoint_every": 0,
    }
    job_params = TrainingParams(
        **{
            "source": str(base),
            "dtype": "float32",
            "head_init": "zero",
            "label_tokens": None,
            "trust_remote_code": False,
            "max_length": max_length,
            "predict_batch_size": 16,
            "deepspeed": deepspeed,
            "lora": lora,
            "settings": settings,
            **params,
        }
    )
    finetune_job(
        params=job_params.to_dict(),  # serialised, as the rule's script hands it
        train_path=str(Path(data) / "train.parquet"),
        target_column=target_column,
        test_path=str(Path(data) / "test.parquet"),
        loss_name=loss["type"],
        loss_entry=loss,
        out=out,
        info={
            "dataset": "toy",
            "seed": 0,
            "role": "weak",
            "model": "m",
            "weak": None,
            "loss": None,
        },
        threads=1,
    )
    return out
