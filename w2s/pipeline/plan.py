"""`w2s plan`: what a run of the workflow would cost, before it starts.

Snakemake's dry run gives the jobs it would run (only those whose outputs are missing or stale) with their cluster
resources; the config gives each model's size. From both: jobs per rule, the hours they ask the cluster for (an
upper bound: the requested wall time, CPUs and GPUs) beside those their FLOPs need, each submission's request (a
packed one's summed as Snakemake sums it), each job kind's GPU memory, and the disk the jobs write: what stays at
the end and what lives only while runs run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import yaml

from w2s.errors import W2SError
from w2s.pipeline.compute import evaluation_share, job_flops
from w2s.pipeline.dry_run_jobs import Job, dry_run, job_shape, parse_jobs, submissions
from w2s.pipeline.fetch import describe_pending
from w2s.pipeline.memory import (
    USABLE,
    GiB,
    fix,
    job_kind,
    job_memory,
    task_kind,
)
from w2s.pipeline.packs import group_request
from w2s.pipeline.plan_disk import disk_lines


def describe_plan(config: dict, jobs: list[Job], cores: int | None = None) -> str:
    """The plan of a dry run's jobs; `cores`: the CPUs a packed submission may run side by side (submission_cores)."""
    if not jobs:
        return "nothing to do: every output is there and up to date"
    counts = Counter(job.rule for job in jobs)
    hours: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for job in jobs:
        hours[job.rule][0] += job.hours() * job.cpus()
        hours[job.rule][1] += job.hours() * job.gpus()
    lines = [
        f"{'rule':<24}{'jobs':>6}{'CPU-hours':>12}{'GPU-hours':>12}   (requested: runtime x cpus, x gpus)"
    ]
    lines += [
        f"{rule:<24}{n:>6}{hours[rule][0]:>12.1f}{hours[rule][1]:>12.1f}"
        for rule, n in counts.items()
    ]
    lines.append(
        f"{'total':<24}{len(jobs):>6}{sum(h[0] for h in hours.values()):>12.1f}"
        f"{sum(h[1] for h in hours.values()):>12.1f}"
    )
    packed, unpacked = submissions(jobs)
    packing = [name for name, entry in config["models"].items() if entry["pack"]]
    lines.append(
        f"cluster submissions: {packed} with packing ({', '.join(packing) or 'no model'} packed), "
        f"{unpacked} without (one per job; the rules marked local run where Snakemake runs)"
    )

    lines += compute_lines(config, jobs)
    lines += request_lines(config, jobs)
    lines += pack_lines(config, jobs, cores)
    lines += disk_lines(config, jobs)
    lines += memory_lines(config, jobs)
    return "\n".join(lines + describe_pending(config))


def compute_lines(config: dict, jobs: list[Job]) -> list[str]:
    """The GPU jobs' compute (w2s.pipeline.compute) as GPU-hours at the planned utilisation, beside the GPU-hours they
    request, by model."""
    cluster = config["cluster"]
    rate = cluster["gpu_tflops"] * 1e12 * cluster["planned_mfu"] * 3600  # FLOPs in a GPU-hour
    by_model: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for job in jobs:
        model = job.wildcards.get("model")
        size = job_shape(config, job) if job.gpus() else None
        if not size:
            continue
        by_model[model][0] += job_flops(config, job.rule, job.wildcards, size[0]) / rate
        by_model[model][1] += job.hours() * job.gpus()
    if not by_model:
        return []
    lines = [
        "",
        f"GPU-hours from each job's FLOPs at cluster.planned_mfu {cluster['planned_mfu']:.0%} of cluster.gpu_tflops "
        f"{cluster['gpu_tflops']:g} (every row at max_length: an upper bound), beside those requested:",
    ]
    lines += [
        f"  {model}: {flops:.3g} (requested {asked:.1f})"
        for model, (flops, asked) in by_model.items()
    ]
    total = [sum(hours[i] for hours in by_model.values()) for i in (0, 1)]
    lines.append(f"  total: {total[0]:.3g} (requested {total[1]:.1f})")
    return lines + evaluation_lines(config, jobs)


EVALUATION_NOTE = (
    0.2  # the share of training compute past which the plan points at training.eval_every
)


def evaluation_lines(config: dict, jobs: list[Job]) -> list[str]:
    """The share of the training jobs' compute their evaluations take (test and validation splits, every
    training.eval_every steps), where some dataset's is over EVALUATION_NOTE."""
    shares: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        if job.rule.startswith("train_") and job.gpus():
            shares[job.wildcards["dataset"]].append(
                evaluation_share(config, job.rule, job.wildcards)
            )
    heavy = {d: max(s) for d, s in shares.items() if max(s) > EVALUATION_NOTE}
    if not heavy:
        return []
    # largest first, equal shares by name: the dry run lists jobs in no fixed order
    worst = ", ".join(
        f"{d} {share:.0%}" for d, share in sorted(heavy.items(), key=lambda x: (-x[1], x[0]))
    )
    return [
        f"  evaluations take over {EVALUATION_NOTE:.0%} of some training jobs' compute (at most, by dataset: "
        f"{worst}; the test and validation splits every training.eval_every {config['training']['eval_every']} "
        "steps): a larger eval_every lowers it"
    ]


def request_lines(config: dict, jobs: list[Job]) -> list[str]:
    """What each kind of submission (rule and model) asks the cluster for, in sbatch's terms, and how many there
    are; a request at or over the cluster's limits (cluster.gpus_per_node, cluster.max_runtime) says so."""
    limits, requests = config["cluster"], Counter()
    for job in jobs:
        if job.local:
            continue
        r, nodes = job.resources, int(job.resources.get("nodes", 1))
        request = f"-t {r.get('runtime')} --mem {r.get('mem_mb')}M --cpus-per-task {r.get('cpus_per_task', 1)}"
        request += f" --nodes {nodes}" if nodes > 1 else ""
        request += f" --gpus {job.gpus()}" if job.gpus() else ""
        if job.gpus() > limits["gpus_per_node"] * nodes:
            request += (
                f"; MORE GPUS THAN A NODE HAS (cluster.gpus_per_node {limits['gpus_per_node']})"
            )
        if int(r.get("runtime", 0)) == limits["max_runtime"] and job_kind(job.rule) == "training":
            request += (
                "; capped at cluster.max_runtime (a training job resumes on Snakemake's retry)"
            )
        requests[job.rule, job.wildcards.get("model", ""), request] += 1
    lines = [
        "",
        "requests of each kind of submission (a packed job's own, as if alone; its pack's below):",
    ]
    lines += [
        f"  {rule} {model}: {request} (x{n})" for (rule, model, request), n in requests.items()
    ]
    return lines


def pack_lines(config: dict, jobs: list[Job], cores: int | None) -> list[str]:
    """What each packed submission (group job) asks for, as Snakemake sums its jobs (w2s.pipeline.packs); one at
    or over the cluster's limits says so."""
    members = defaultdict(list)
    for job in jobs:
        if job.group is not None:
            members[job.group].append(job)
    if not members:
        return []
    limits, requests = config["cluster"], Counter()
    for group in members.values():
        request = group_request(group, cores)
        line = request.sbatch()
        if request.gpu > limits["gpus_per_node"]:
            line += f"; MORE GPUS THAN A NODE HAS (cluster.gpus_per_node {limits['gpus_per_node']})"
        if request.runtime > limits["max_runtime"]:
            line += f"; OVER cluster.max_runtime {limits['max_runtime']}: fewer jobs to a pack, or no packing"
        if request.too_wide:
            line += f"; A JOB ASKS FOR MORE THAN {cores} CPUS: Snakemake refuses to pack it"
        requests[request.jobs, line] += 1
    side_by_side = (
        f"up to {cores} CPUs" if cores else "all of a level (no --cores known: give --profile)"
    )
    lines = [
        "",
        f"requests of the packed submissions (a group's jobs side by side, {side_by_side}, the rest after them):",
    ]
    return lines + [f"  {n} jobs: {line} (x{count})" for (n, line), count in requests.items()]


def submission_cores(extra: list[str]) -> int | None:
    """The CPUs a packed submission may use side by side, as the run will have it: `--cores N` among the dry run's
    arguments, else the `cores` of the profile `--profile` names (slurm/config.yaml: a GPU node's CPUs)."""
    cores, profile = None, None
    for flag, value in zip(extra, extra[1:] + [""]):
        name, _, inline = flag.partition("=")
        if name in ("--cores", "-c"):
            cores = inline or value
        elif name == "--profile":
            profile = inline or value
    if cores is None and profile:
        for folder in (Path(profile), Path.home() / ".config/snakemake" / profile):
            if (folder / "config.yaml").is_file():
                cores = yaml.safe_load((folder / "config.yaml").read_text()).get("cores")
                break
    return int(cores) if str(cores).isdigit() else None


def memory_lines(config: dict, jobs: list[Job]) -> list[str]:
    """Each GPU model job kind's estimated peak memory per process (w2s.pipeline.memory) against the cluster's
    GPU; for one that does not fit, the first change that makes it fit."""
    gpu = config["cluster"]["gpu_memory_gib"] * GiB
    kinds = {}
    for job in jobs:
        kind, model = job_kind(job.rule), job.wildcards.get("model")
        size = job_shape(config, job) if kind and config["models"][model]["gpus"] else None
        if size:
            dataset = job.wildcards["dataset"]
            task = task_kind(config, dataset) + (
                " (k-shot prompts)" if job.rule == "score_few_shot" else ""
            )
            kinds.setdefault((model, kind, task), (dataset, size[0]))
    if not kinds:
        return []
    lines = [
        "",
        f"GPU memory per process, estimated (GiB; the cluster's GPU: cluster.gpu_memory_gib {gpu / GiB:g}, of "
        f"which jobs may plan {USABLE:.0%}):",
    ]
    for (model, kind, task), (dataset, shape) in kinds.items():
        estimate = job_memory(config, model, kind, dataset, shape)
        fits = estimate.peak <= USABLE * gpu
        lines.append(
            f"  {model} {kind}{task}: {estimate.peak / GiB:.1f} {'fits' if fits else 'DOES NOT FIT'} "
            f"({estimate.describe()})"
        )
        if not fits:
            lines.append(f"    {fix(config, model, kind, dataset, shape, USABLE * gpu)}")
    return lines


def plan(
    configfile: str | Path, snakefile: str | Path = "Snakefile", extra: list[str] | None = None
) -> str:
    from w2s.pipeline.config import read_config_file, validate_config

    config = validate_config(read_config_file(configfile))
    if not Path(snakefile).is_file():
        raise W2SError(
            f"{snakefile} is not there: run w2s plan in the workflow's folder, or give -s PATH/Snakefile"
        )
    extra = extra or []
    return describe_plan(
        config, parse_jobs(dry_run(snakefile, configfile, extra)), submission_cores(extra)
    )
