"""The jobs of a Snakemake dry run, parsed: each job's rule, wildcards, resources, files and the group job it is packed
into; and the model each job trains or runs, by shape, for the plan's estimates (w2s.pipeline.plan)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from w2s.errors import W2SError
from w2s.kinds import of_entry
from w2s.pipeline.cluster import runs_locally
from w2s.pipeline.grid import prompt_rows
from w2s.pipeline.model_shapes import model_shape
from w2s.pipeline.paths import TRAINED_ROLES

TRAINING_ROLES = {
    f"train_{role}": role for role in TRAINED_ROLES
}  # rule -> role (whose checkpoints keep_checkpoints names)


@dataclass
class Job:
    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)
    local: bool = False  # run where Snakemake runs (localrule), never submitted
    group: int | None = (
        None  # the group job (one submission) it is packed into, numbered in the dry run's order
    )
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    def hours(self) -> float:
        return float(self.resources.get("runtime", 0)) / 60

    def gpus(self) -> int:
        """The job's GPUs: `gpu` (the whole job's, one node) or gres gpu:N per node (w2s.pipeline.cluster)."""
        per_node = re.search(r"gpu:(\d+)", self.resources.get("gres", ""))
        if per_node:
            return int(per_node.group(1)) * int(self.resources.get("nodes", 1))
        return int(self.resources.get("gpu", 0))

    def cpus(self) -> int:
        return int(self.resources.get("cpus_per_task", 1)) * int(self.resources.get("nodes", 1))


def dry_run(snakefile: str | Path, configfile: str | Path, extra: list[str]) -> str:
    """The dry run's output, as Snakemake prints it for this config (and any further Snakemake arguments)."""
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(snakefile),
        "--dry-run",
        "--cores",
        "1",
        *extra,
        "--configfile",
        str(configfile),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise W2SError(
            f"the dry run failed ({' '.join(command)}):\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result.stdout + result.stderr


def parse_jobs(output: str) -> list[Job]:
    """The jobs of a dry run's output: each `rule NAME:` block with its wildcards and resources, and the group job
    (`Group job NAME ...:`, its member blocks indented) it belongs to."""
    jobs, group, groups = (
        [],
        None,
        0,
    )  # a dry run prints `rule` for a local rule too: runs_locally tells
    for line in output.splitlines():
        if re.match(r"^\[.*\] Group job \S+", line):
            group, groups = groups, groups + 1
        rule = re.match(r"^(\s*)(local)?rule (\w+):", line)
        if rule:
            indented = bool(rule.group(1))
            name = rule.group(3)
            jobs.append(
                Job(
                    name,
                    local=bool(rule.group(2)) or runs_locally(name),
                    group=group if indented else None,
                )
            )
            continue
        field_line = re.match(r"^\s+(wildcards|resources): (.*)$", line)
        if field_line and jobs:
            items = dict(
                item.split("=", 1) for item in field_line.group(2).split(", ") if "=" in item
            )
            setattr(jobs[-1], field_line.group(1), items)
        files = re.match(r"^\s+(input|output): (.*)$", line)
        if files and jobs:
            setattr(jobs[-1], f"{files.group(1)}s", tuple(files.group(2).split(", ")))
    return jobs


def submissions(jobs: list[Job]) -> tuple[int, int]:
    """(cluster submissions as planned, with packing; without it: one per job not run locally)."""
    submitted = [job for job in jobs if not job.local]
    packed = {job.group for job in submitted if job.group is not None}
    return sum(job.group is None for job in submitted) + len(packed), len(submitted)


def head_outputs(config: dict, dataset: str) -> int:
    """The outputs of the head a model trains on `dataset`: a logit per class, or a reward model's one reward."""
    return of_entry(config["datasets"][dataset]).head_outputs


def job_shape(config: dict, job: Job):
    """(shape, stored parameters) of the model a job trains or runs, with the head of its dataset's task
    (w2s.pipeline.model_shapes.model_shape), its rows k + 1 times as long for k-shot prompts (an upper bound: the
    model's context caps them); None where it cannot be had offline."""
    found = model_shape(
        config, job.wildcards["model"], head_outputs(config, job.wildcards["dataset"])
    )
    if found and job.rule == "score_few_shot":
        shape, stored = found
        return replace(shape, context=shape.context * prompt_rows(config)), stored
    return found
