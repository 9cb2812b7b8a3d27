"""The experiment grid: which runs a config asks for, where their files live, and each run's parameters.

The Snakefile and rules use these patterns and functions, so a path is spelled in one place only.
"""

from __future__ import annotations

import os
from itertools import combinations

from w2s.config import label_tokens

DATA = "results/data/{dataset}/seed{seed}/{split}.parquet"
WORLD = "results/worlds/{world}"
BASE_MODEL = "results/base_models/{model}"
PRETRAINED = "results/pretrained/{model}"
WEAK = "results/weak/{dataset}/seed{seed}/{model}"
LABELS = "results/labels/{dataset}/seed{seed}/{model}.parquet"
CEILING = "results/ceiling/{dataset}/seed{seed}/{model}"
STUDENT = "results/student/{dataset}/seed{seed}/{weak}/{model}/{loss}"
ZERO_SHOT = "results/zero_shot/{dataset}/seed{seed}/{model}"
WEAK_CHECKPOINT = f"{WEAK}/checkpoint"
LABEL_SHARD = "results/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.parquet"
SUMMARY = "results/summary/{table}.{ext}"
ACCURACY_PLOT = "results/plots/accuracy_{dataset}.png"
PGR_PLOT = "results/plots/pgr_{loss}.png"
SUMMARY_TABLES = ("runs", "aggregate", "overall")


def run_outputs(run: str) -> dict:
    """The files every finetuning run writes into its folder `run` (a pattern such as WEAK)."""
    from snakemake.io import directory

    return {
        "checkpoint": directory(f"{run}/checkpoint"),
        "metrics": f"{run}/metrics.json",
        "predictions": f"{run}/test_predictions.parquet",
        "trajectory": f"{run}/trajectory.jsonl",
    }


def base_model_inputs(config: dict, model: str) -> list[str]:
    """The model directory a finetuning run starts from, when it is one the workflow can track."""
    source = model_source(config, model)
    entry = config["models"][model]
    return [source] if "build" in entry or "pretrain" in entry or os.path.isdir(source) else []


def world_input(config: dict, world: str | None) -> list[str]:
    return [WORLD.format(world=world)] if world else []


def dataset_inputs(config: dict, dataset: str) -> list[str]:
    """Files a dataset's split job reads: a world's task, for datasets of kind world."""
    entry = config["datasets"][dataset]
    return world_input(config, entry.get("options", {}).get("world") if entry["kind"] == "world" else None)


def zero_shot_models(config: dict) -> list[str]:
    """Models of the pairs that have label tokens, so a zero-shot answer to score."""
    models = dict.fromkeys(model for pair in model_pairs(config) for model in pair)
    return [model for model in config["models"] if model in models and label_tokens(config["models"][model])]


def model_pairs(config: dict) -> list[tuple[str, str]]:
    if config["pairs"] == "all":
        return list(combinations(config["models"], 2))
    return [(pair["weak"], pair["strong"]) for pair in config["pairs"]]


def model_source(config: dict, model: str) -> str:
    """What to load a model from: its hub id or path, or the directory the pipeline builds it in."""
    entry = config["models"][model]
    if "pretrain" in entry:
        return PRETRAINED.format(model=model)
    return entry["path"] if "path" in entry else BASE_MODEL.format(model=model)


def metrics_files(config: dict) -> list[str]:
    """Every run's metrics.json the summary needs: weak models, ceilings and students of every pair."""
    files = []
    pairs = model_pairs(config)
    for dataset in config["datasets"]:
        for seed in config["seeds"]:
            for model in dict.fromkeys(weak for weak, _ in pairs):
                files.append(f"{WEAK}/metrics.json".format(dataset=dataset, seed=seed, model=model))
            for model in dict.fromkeys(strong for _, strong in pairs):
                files.append(f"{CEILING}/metrics.json".format(dataset=dataset, seed=seed, model=model))
            for model in zero_shot_models(config):
                files.append(f"{ZERO_SHOT}/metrics.json".format(dataset=dataset, seed=seed, model=model))
            for weak, strong in pairs:
                for loss in config["losses"]:
                    run = STUDENT.format(dataset=dataset, seed=seed, weak=weak, model=strong, loss=loss)
                    files.append(f"{run}/metrics.json")
    return files


def summary_files() -> list[str]:
    return [SUMMARY.format(table=table, ext=ext) for table in SUMMARY_TABLES for ext in ("csv", "parquet")]


def label_shard_files(config: dict, dataset: str, seed: str, model: str) -> list[str]:
    shards = config["labelling"]["shards"]
    return [LABEL_SHARD.format(dataset=dataset, seed=seed, model=model, shard=shard, shards=shards)
            for shard in range(shards)]


def label_files(config: dict) -> list[str]:
    weak_models = dict.fromkeys(weak for weak, _ in model_pairs(config))
    return [LABELS.format(dataset=dataset, seed=seed, model=model)
            for dataset in config["datasets"] for seed in config["seeds"] for model in weak_models]


def final_targets(config: dict) -> list[str]:
    """The summary, the plots, and the weak labels: a deliverable to inspect, so a deleted one is remade."""
    return (
        summary_files()
        + label_files(config)
        + [ACCURACY_PLOT.format(dataset=dataset) for dataset in config["datasets"]]
        + [PGR_PLOT.format(loss=loss) for loss in config["losses"]]
    )


# Settings that change how a run reports and saves its progress, not its result: kept out of the rules' params so
# that changing them reruns nothing (the scripts read them from the config).
UNTRACKED_SETTINGS = ("log_every", "checkpoint_every")


def untracked_settings(config: dict) -> dict:
    return {k: config["training"][k] for k in UNTRACKED_SETTINGS}


def training_params(config: dict, model: str, seed: int) -> dict:
    """Everything a finetuning run's result depends on besides its data and loss: goes into the rule's params."""
    entry = config["models"][model]
    return {
        "source": model_source(config, model),
        "dtype": entry["dtype"],
        "head_init": entry["head_init"],
        "label_tokens": label_tokens(entry),
        "trust_remote_code": entry["trust_remote_code"],
        "max_length": entry["max_length"],
        "settings": {
            "lr": entry["lr"],
            "batch_size": entry["batch_size"],
            "minibatch_size": entry["minibatch_size"],
            "seed": int(seed),
            **{k: v for k, v in config["training"].items() if k not in ("predict_batch_size", *UNTRACKED_SETTINGS)},
        },
        "predict_batch_size": config["training"]["predict_batch_size"],
        "deepspeed": deepspeed_launch(entry),
    }


def deepspeed_launch(entry: dict) -> dict | None:
    """A model entry's DeepSpeed settings with its process layout resolved; None for a plain run."""
    if "deepspeed" not in entry:
        return None
    processes = entry["deepspeed"].get("processes_per_node") or max(1, entry.get("gpus", 0))
    return {**entry["deepspeed"], "processes_per_node": processes, "nodes": entry.get("nodes", 1)}


# Cluster resources of each rule's jobs (Slurm through `snakemake --profile slurm`; a local run ignores them). The
# numbers are defaults: a model entry's `gpus`, `nodes` and `resources` replace them for that model's jobs, and a
# profile's `set-resources` replaces both. runtime is in minutes, mem_mb is host memory (not GPU memory).
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
    "score_zero_shot": {
        "runtime": 60,  # one forward pass over the test split
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
STAGE_RESOURCES["train_ceiling"] = STAGE_RESOURCES["train_student"] = STAGE_RESOURCES["train_weak"]

# Rules whose jobs run a model on its accelerators: they get the model's GPUs and nodes. build_base_model only
# writes a random initialisation, on the CPU, so it gets the model's CPUs, memory and site settings, not its GPUs.
ACCELERATED_STAGES = ("train_weak", "train_ceiling", "train_student", "label_strong_train", "score_zero_shot",
                      "pretrain_model")
MODEL_STAGES = (*ACCELERATED_STAGES, "build_base_model")

# A model entry's resources.<key> -> the resource name snakemake-executor-plugin-slurm turns into an sbatch option.
SITE_RESOURCES = {"partition": "slurm_partition", "account": "slurm_account", "constraint": "constraint"}


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
    resources.update({key: own[key] for key in ("runtime", "mem_mb") if key in own})
    resources.update({name: own[key] for key, name in SITE_RESOURCES.items() if key in own})
    extra = []
    gpus, nodes = entry.get("gpus", 0), entry.get("nodes", 1)
    if stage in ACCELERATED_STAGES and nodes > 1:
        # One task per node: the job's launcher starts one process per GPU on each node.
        resources["nodes"] = nodes
        extra.append("--ntasks-per-node=1")
        if gpus:
            resources["gres"] = f"gpu:{gpus}"  # per node; the plugin's `gpu` would be the whole job's count
        else:
            resources["tasks"] = nodes  # a GPU job gets no --ntasks from the plugin, a CPU job needs it
    elif stage in ACCELERATED_STAGES and gpus:
        resources["gpu"] = gpus
    if own.get("slurm_extra"):
        extra.append(own["slurm_extra"])
    if extra:
        resources["slurm_extra"] = " ".join(extra)
    return resources


def rule_resources(config: dict, stage: str) -> dict:
    """The `resources:` of rule `stage`: job_resources, as one function of the job's wildcards per resource.

    A resource no model of the config sets is left out, so the profile's default-resources still supplies it; one
    that some models set is theirs alone (the others' jobs go without it).
    """
    if stage not in MODEL_STAGES:
        return job_resources(config, None, stage)
    per_model = {model: job_resources(config, model, stage) for model in config["models"]}
    names = dict.fromkeys(name for resources in per_model.values() for name in resources)
    return {name: _model_resource(per_model, name) for name in names}


def _model_resource(per_model: dict, name: str):
    return lambda wildcards: per_model[wildcards.model].get(name)
