"""Cluster resources of each rule's jobs (Slurm through `snakemake --profile slurm`; a local run ignores them).

The numbers are defaults: a model entry's `gpus`, `nodes` and `resources` replace them for that model's jobs, and a
profile's `set-resources` replaces both. runtime is in minutes, mem_mb is host memory (not GPU memory).
"""

from __future__ import annotations

import math

from w2s.pipeline.analyses import ANALYSES
from w2s.pipeline.rule_params import deepspeed_launch

STAGE_RESOURCES = {
    "split_dataset": {
        "runtime": 30,  # loading, formatting and sampling a Hugging Face task takes minutes, a synthetic one seconds
        "mem_mb": 4000,  # the pooled source splits sit in memory; amazon_polarity's 3.6M rows take ~2 GB
        "cpus_per_task": 1,  # single-threaded
    },
    "build_base_model": {
        "runtime": 15,  # random init and save_pretrained of a small model: seconds
        "mem_mb": 4000,  # the fp32 weights of a model up to ~1B parameters
    },
    "train_weak": {
        "runtime": 240,  # a GPT-2-family finetune of the paper grid (2 epochs of 5-10k examples) takes under an hour
        "mem_mb": 8000,  # host memory to load a model in fp32 (gpt2-xl, 1.5B parameters: 6 GB) plus its data
    },
    "label_strong_train": {
        "runtime": 60,  # one forward pass over the strong_train split
        "mem_mb": 8000,  # the same model as its train_weak job
    },
    "predict_test": {
        "runtime": 60,  # one forward pass over a shard of the test split
        "mem_mb": 8000,  # the same model as its training job
    },
    "score_zero_shot": {
        "runtime": 60,  # one forward pass over the test split
        "mem_mb": 8000,  # the same model as its train_weak job
    },
    "score_few_shot": {
        "runtime": 60,  # one forward pass over the test split's k-shot prompts, k + 1 times as long
        "mem_mb": 8000,  # the same model as its train_weak job
    },
    "generate_world": {
        "runtime": 15,  # a 400k-line corpus and a 3000-row task: seconds
        "mem_mb": 2000,  # the corpus is written line by line
        "cpus_per_task": 1,  # single-threaded
    },
    "pretrain_model": {
        "runtime": 120,  # the default config's largest world model pretrains in about a minute on one CPU core
        "mem_mb": 4000,  # a small model and its corpus in memory
    },
    "generative_finetune": {
        "runtime": 240,  # a few thousand LM steps on a task's texts: like a finetuning run
        "mem_mb": 8000,  # the model in fp32 with its optimizer state
    },
    "summarize_runs": {
        "runtime": 10,  # reads one metrics.json per run: seconds even for a 10k-run grid
        "mem_mb": 2000,  # small tables
        "cpus_per_task": 1,  # single-threaded
    },
    "plot_results": {
        "runtime": 10,  # a few matplotlib figures
        "mem_mb": 2000,  # matplotlib
        "cpus_per_task": 1,  # single-threaded
    },
}
for stage in ("train_ceiling", "train_student", "train_chain"):
    STAGE_RESOURCES[stage] = STAGE_RESOURCES["train_weak"]

# Rules whose jobs run a model on its accelerators: they get the model's GPUs and nodes. build_base_model only
# writes a random initialisation, on the CPU, so it gets the model's CPUs, memory and site settings, not its GPUs.
ACCELERATED_STAGES = (
    "train_weak",
    "train_ceiling",
    "train_student",
    "train_chain",
    "label_strong_train",
    "predict_test",
    "score_zero_shot",
    "score_few_shot",
    "pretrain_model",
    "generative_finetune",
)
MODEL_STAGES = (*ACCELERATED_STAGES, "build_base_model")
# Stages whose jobs only predict: on GPUs their runtime is sized from their own FLOPs (prediction_runtime), not the
# model entry's runtime, which is its training's.
PREDICTION_STAGES = ("label_strong_train", "predict_test", "score_zero_shot", "score_few_shot")
PREDICTION_START_MINUTES = 15  # loading the model and the split, starting the processes
PREDICTION_MARGIN = (
    3  # the FLOPs-based minutes times this: generation, padding, a slower GPU than planned
)

# A model entry's resources.<key> -> the resource name snakemake-executor-plugin-slurm turns into an sbatch option.
SITE_RESOURCES = {
    "partition": "slurm_partition",
    "account": "slurm_account",
    "constraint": "constraint",
}


# The rules marked `localrule: True` (and the target rule): quick reads of small files, run where Snakemake runs,
# never submitted. A dry run does not say which rules these are; `w2s plan` counts submissions with this.
LOCAL_RULES = (
    "all",
    "merge_label_shards",
    "combine_ensemble",
    *(f"analyse_{analysis.name}" for analysis in ANALYSES),
    "write_report_page",
)


def runs_locally(rule: str) -> bool:
    """Whether a rule's jobs run where Snakemake runs (LOCAL_RULES, and score_<role>_run of test shards)."""
    return rule in LOCAL_RULES or (rule.startswith("score_") and rule.endswith("_run"))


def job_resources(config: dict, model: str | None, stage: str) -> dict:
    """The resources of one job of rule `stage`, for `model` (None for the rules that run no model).

    Names are those snakemake-executor-plugin-slurm maps to sbatch: runtime (-t, minutes), mem_mb (--mem),
    cpus_per_task, slurm_partition (-p), slurm_account (-A), constraint (-C), gpu (--gpus, the job's total) or
    gres (--gres=gpu:N, per node), nodes (--nodes), tasks (--ntasks) and slurm_extra (appended verbatim).
    """
    resources = dict(STAGE_RESOURCES[stage])
    if model is None:
        return resources
    if stage not in MODEL_STAGES:
        raise ValueError(f"rule {stage} runs no model")
    entry = config["models"][model]
    own = entry.get("resources", {})
    resources["cpus_per_task"] = entry["threads"]  # the threads the rule gives the job
    if entry.get("gpus") and stage in ACCELERATED_STAGES:
        # a GPU job's model is large: its host memory follows from its size (None where that is not known offline)
        resources["mem_mb"] = max(resources["mem_mb"], host_memory_mb(config, model, stage) or 0)
    resources.update({key: own[key] for key in ("runtime", "mem_mb") if key in own})
    resources["runtime"] = min(resources["runtime"], config["cluster"]["max_runtime"])
    resources.update({name: own[key] for key, name in SITE_RESOURCES.items() if key in own})
    extra = []
    gpus, nodes = entry.get("gpus", 0), entry.get("nodes", 1)
    if stage in ACCELERATED_STAGES and nodes > 1:
        # One task per node: the job's launcher starts one process per GPU on each node.
        resources["nodes"] = nodes
        extra.append("--ntasks-per-node=1")
        if gpus:
            resources["gres"] = (
                f"gpu:{gpus}"  # per node; the plugin's `gpu` would be the whole job's count
            )
        else:
            resources["tasks"] = (
                nodes  # a GPU job gets no --ntasks from the plugin, a CPU job needs it
            )
    elif stage in ACCELERATED_STAGES and gpus:
        resources["gpu"] = gpus
    if own.get("slurm_extra"):
        extra.append(own["slurm_extra"])
    if extra:
        resources["slurm_extra"] = " ".join(extra)
    return resources


def host_memory_mb(config: dict, model: str, stage: str) -> int | None:
    """The host memory a GPU job of `model` needs (w2s.pipeline.memory.host_bytes) in MB, with a margin; None where
    the model's shape cannot be had offline (a hub model not yet fetched)."""
    from w2s.pipeline.memory import HOST_MARGIN, host_bytes, job_kind
    from w2s.pipeline.model_shapes import DTYPE_BYTES

    shape = known_shape(config, model)
    if shape is None:
        return None
    entry = config["models"][model]
    launch = deepspeed_launch(entry)
    processes = launch["processes_per_node"] if launch else 1
    kind = job_kind(stage)
    needed = host_bytes(shape, kind, processes, DTYPE_BYTES[entry["dtype"]]) * HOST_MARGIN
    return math.ceil(needed / 1e6)


def known_shape(config: dict, model: str):
    """The model's shape (w2s.pipeline.model_shapes.Shape), None where it cannot be had offline."""
    from w2s.pipeline.model_shapes import model_shape

    found = model_shape(config, model)
    return found[0] if found else None


def prediction_runtime(config: dict, stage: str, model: str, dataset: str) -> int:
    """A GPU prediction job's runtime request (minutes): its FLOPs at the planned utilisation of its GPUs, with a
    margin and start-up time, at least the stage's default and at most the entry's runtime (its training's, capped
    at cluster.max_runtime); the entry's runtime where the model's shape is not known offline."""
    from w2s.pipeline.compute import stage_flops

    ceiling = job_resources(config, model, stage)["runtime"]
    shape = known_shape(config, model)
    if shape is None:
        return ceiling
    cluster = config["cluster"]
    rate = config["models"][model]["gpus"] * cluster["gpu_tflops"] * 1e12 * cluster["planned_mfu"]
    minutes = stage_flops(config, stage, dataset, shape) / rate / 60
    estimate = math.ceil(PREDICTION_START_MINUTES + PREDICTION_MARGIN * minutes)
    return min(ceiling, max(STAGE_RESOURCES[stage]["runtime"], estimate))


def rule_resources(config: dict, stage: str) -> dict:
    """The `resources:` of rule `stage`: job_resources, as one function of the job's wildcards per resource.

    A resource no model of the config sets is left out, so the profile's default-resources still supplies it; one
    that some models set is theirs alone (the others' jobs go without it).
    """
    if stage not in MODEL_STAGES:
        return job_resources(config, None, stage)
    per_model = {model: job_resources(config, model, stage) for model in config["models"]}
    names = dict.fromkeys(name for resources in per_model.values() for name in resources)
    resources = {name: _model_resource(per_model, name) for name in names}
    if stage in PREDICTION_STAGES:
        resources["runtime"] = lambda wildcards: (
            prediction_runtime(config, stage, wildcards.model, wildcards.dataset)
            if config["models"][wildcards.model].get("gpus")
            else per_model[wildcards.model]["runtime"]
        )
    return resources


def _model_resource(per_model: dict, name: str):
    return lambda wildcards: per_model[wildcards.model].get(name)
