"""The rules' params: everything a job's result depends on besides its input files, so that a changed setting
reruns exactly the jobs it touches (Snakemake's params trigger). A finished grid's params must not change shape:
a key added for everyone would rerun every job; a new option adds its key only where it is on.
"""

from __future__ import annotations

from dataclasses import replace

from w2s.data.prompting import TRUTH
from w2s.data.splits import SPLITS
from w2s.hub import CONVERTED
from w2s.kinds import of_entry
from w2s.pipeline.config_checks import label_tokens
from w2s.pipeline.grid import (
    UNTRACKED_SETTINGS,
    Run,
    chain_folds,
    chain_train_split,
    is_probe,
    prompt_rows,
    stopping_method,
    stops_early,
    training_split,
    uses_validation,
    writes_labels,
)
from w2s.pipeline.paths import BASE_MODEL, GENERATIVE, PRETRAINED
from w2s.records.params import ActivationParams, PredictionParams, TrainingParams, ZeroShotParams


def model_source(config: dict, model: str) -> str:
    """What to load a model from: its hub id (`<id>@<revision>` with a revision, then `:converted` where it opts in
    to a conversion of pickled weights: w2s.hub) or path, or the directory the pipeline builds it in."""
    entry = config["models"][model]
    if "backbone" in entry:
        return model_source(config, entry["backbone"])
    if "pretrain" in entry:
        return PRETRAINED.format(model=model)
    if "path" not in entry:
        return BASE_MODEL.format(model=model)
    spec = f"{entry['path']}@{entry['revision']}" if "revision" in entry else entry["path"]
    return spec + CONVERTED if entry.get("convert_pickle") else spec


def run_source(config: dict, model: str, dataset: str, seed) -> str:
    """What a finetuning run of `model` on a dataset and seed starts from: the model, or with generative_finetune
    the model finetuned as an LM on that dataset's (and seed's) texts."""
    if "generative_finetune" in config["models"][model]:
        return GENERATIVE.format(dataset=dataset, seed=seed, model=model)
    return model_source(config, model)


def deepspeed_launch(entry: dict) -> dict | None:
    """A model entry's DeepSpeed settings with its process layout resolved; None for a plain run."""
    if "deepspeed" not in entry:
        return None
    processes = entry["deepspeed"].get("processes_per_node") or max(1, entry.get("gpus", 0))
    return {**entry["deepspeed"], "processes_per_node": processes, "nodes": entry.get("nodes", 1)}


def answer_params(config: dict, dataset: str | None) -> dict:
    """What the dataset's task kind adds to its jobs' params (w2s.kinds): a generative task's answer format, for the
    jobs that train on or generate answers; for a comparison task, that its models are reward models; nothing for a
    classification task, whose params stay as they were before these tasks existed."""
    return of_entry(config["datasets"][dataset]).task_params(config, dataset) if dataset else {}


def training_params(config: dict, model: str, dataset: str, seed) -> TrainingParams:
    """Everything a finetuning run's result depends on besides its data and loss."""
    entry = config["models"][model]
    recipe = {
        k: v
        for k, v in config["training"].items()
        if k not in ("predict_batch_size", "early_stopping", *UNTRACKED_SETTINGS)
    }
    return TrainingParams(
        source=run_source(config, model, dataset, seed),
        dtype=entry["dtype"],
        head_init=entry["head_init"],
        label_tokens=label_tokens(entry),
        trust_remote_code=entry["trust_remote_code"],
        max_length=entry["max_length"],
        mode="probe" if is_probe(config, model) else None,
        lora=entry.get("lora"),
        **answer_params(config, dataset),
        settings={
            "lr": entry["lr"],
            "batch_size": entry["batch_size"],
            "minibatch_size": entry["minibatch_size"],
            "seed": int(seed),
            **recipe,
        },
        predict_batch_size=config["training"]["predict_batch_size"],
        deepspeed=deepspeed_launch(entry),
    )


def prediction_params(config: dict, model: str, dataset: str | None = None) -> PredictionParams:
    """What predicting with a trained `model` (its checkpoint) depends on: the params of labelling and
    test-prediction jobs, so that they rerun when these change, not when the training recipe does (the recipe
    reaches them through the checkpoint file). A model trained in several DeepSpeed processes also predicts in
    them (w2s.jobs.run.prediction_model): its layout is part of these params; one of a single process predicts
    in one, as a plain model does."""
    entry = config["models"][model]
    launch = deepspeed_launch(entry)
    several = launch and launch["nodes"] * launch["processes_per_node"] > 1
    return PredictionParams(
        dtype=entry["dtype"],
        trust_remote_code=entry["trust_remote_code"],
        max_length=entry["max_length"],
        predict_batch_size=config["training"]["predict_batch_size"],
        autocast=config["training"]["autocast"],
        deepspeed=launch if several else None,
        **answer_params(config, dataset),
    )


def zero_shot_params(config: dict, model: str, dataset: str | None = None) -> ZeroShotParams:
    """What scoring `model`'s own answer depends on: the base model, its label tokens and how it predicts (on a
    generative task, the answer format)."""
    entry = config["models"][model]
    return ZeroShotParams(
        source=model_source(config, model),
        label_tokens=label_tokens(entry),
        **prediction_params(config, model, dataset).to_dict(),
    )


def zero_shot_infos(config: dict, dataset: str, model: str) -> list[dict]:
    """What a zero-shot job's metrics record, one per seed (the job scores every seed's test split)."""
    return [
        {"dataset": dataset, "seed": int(seed), "role": "zero_shot", "model": model}
        | {"weak": None, "loss": None}
        for seed in config["seeds"]
    ]


def few_shot_params(config: dict, model: str, dataset: str) -> ZeroShotParams:
    """What scoring `model`'s answers to k-shot prompts depends on: its zero-shot params, the prompts' settings
    (config few_shot), and a prompt's length, (k + 1) x max_length tokens (capped at the model's context when it
    runs); a comparison's label tokens are left out (it is read by the likelihood of each completion)."""
    params = zero_shot_params(config, model, dataset)
    setting = config["few_shot"]
    return replace(
        params,
        max_length=prompt_rows(config) * params.max_length,
        few_shot={"k": setting["k"], "separator": setting["separator"]},
        **of_entry(config["datasets"][dataset]).few_shot_params(),
    )


def few_shot_infos(config: dict, dataset: str, model: str, shots: str) -> list[dict]:
    """What a k-shot job's metrics record, one per seed: its examples' labels (`weak`, None for the truth) and k."""
    weak = None if shots == TRUTH else shots
    return [
        {"dataset": dataset, "seed": int(seed), "role": "few_shot", "model": model, "weak": weak}
        | {"loss": None, "k": config["few_shot"]["k"]}
        for seed in config["seeds"]
    ]


def generative_params(config: dict, model: str, seed) -> dict:
    """What a generative finetuning depends on: the model it starts from, its recipe, and whether it computes in
    bf16 (training.autocast, as the classification runs do)."""
    entry = config["models"][model]
    recipe = {
        k: v for k, v in entry["generative_finetune"].items() if k != "splits"
    }  # splits: inputs
    # it finetunes as the model trains: in minibatches of its minibatch_size (a batch of long texts in one pass
    # would hold every position's full-vocabulary logits at once), a DeepSpeed model in its launcher's processes
    launch = deepspeed_launch(entry)
    return {
        "source": model_source(config, model),
        "trust_remote_code": entry["trust_remote_code"],
        "max_length": entry["max_length"],
        "seed": int(seed),
        **recipe,
        "autocast": config["training"]["autocast"],
        "minibatch_size": entry["minibatch_size"],
        **({"deepspeed": launch} if launch else {}),
    }


def activation_params(config: dict, model: str, dataset: str, seed) -> ActivationParams:
    """What a backbone's activations of a split depend on: the model they come from and how it reads texts."""
    return ActivationParams(
        source=run_source(config, model, dataset, seed),
        **prediction_params(config, model).to_dict(),
    )


def split_entry(config: dict, dataset: str) -> dict:
    """What the weak_train / strong_train / test splits depend on: the dataset entry without the validation size
    (the validation split is drawn by a rule of its own, so that asking for it leaves these files alone) and
    without a generative task's answer length (it changes how answers are written, not which rows are drawn)."""
    return {
        k: v
        for k, v in config["datasets"][dataset].items()
        if k not in ("n_validation", "max_new_tokens")
    }


def chain_split_sizes(config: dict, dataset: str, position: int) -> dict[str, int]:
    """The sizes of the seeded draw whose last split is the fresh split of the chain link at `position`
    (chain_folds fresh): the draw of weak_train, strong_train, test (and validation, where used) continued, one
    split of strong_train's size per link, so each is disjoint from all the others."""
    entry = config["datasets"][dataset]
    sizes = {split: entry[f"n_{split}"] for split in SPLITS}
    if uses_validation(config):
        sizes["validation"] = entry["n_validation"]
    fresh = {chain_train_split(p): entry["n_strong_train"] for p in range(2, position + 1)}
    return sizes | fresh


def run_info(config: dict, run: Run) -> dict:
    """What a run's metrics and predictions record about it (a chain link: its chain, whose first model is its
    weak model; a generatively finetuned model or a probe: that)."""
    info = {
        "dataset": run.dataset,
        "seed": run.seed,
        "role": run.role,
        "model": run.model,
        "weak": run.weak,
        "loss": run.loss,
    }
    if run.role == "chain":
        info["chain"] = run.chain
    if (
        "generative_finetune" in config["models"][run.model]
    ):  # absent otherwise, as before it existed
        info["generative"] = True
    if is_probe(config, run.model):
        info["mode"] = "probe"
    if not of_entry(config["datasets"][run.dataset]).has_chance_level:
        info["chance"] = None
    return info


def label_info(run: Run, split: str = "strong_train") -> dict:
    """What a labels file written by `run`'s model records about itself."""
    return {"dataset": run.dataset, "seed": run.seed, "weak_model": run.model, "split": split}


def chain_label_info(link: Run, split: str = "strong_train") -> dict:
    """What the labels a chain's link `link.model` gives the next link record: also the chain and loss."""
    return {**label_info(link, split), "chain": link.chain, "loss": link.loss}


def ensemble_params(config: dict, wildcards) -> dict:
    """What an ensemble's job reads besides its files: its members (in order) and weighting, and what its labels
    record about themselves (as a weak model's do: the ensemble is their weak model)."""
    entry = config["ensembles"][wildcards.ensemble]
    run = Run("ensemble", wildcards.dataset, int(wildcards.seed), wildcards.ensemble)
    return {"members": entry["members"], "weighting": entry["weighting"], "info": label_info(run)}


def supervision(config: dict, run: Run) -> dict | None:
    """What a run's training labels must record about themselves (a student's or chain link's; None for ground
    truth): the labels file of another run would train it on the wrong supervision without a word."""
    if run.role not in ("student", "chain"):
        return None
    fields = {"dataset": run.dataset, "seed": run.seed, "split": training_split(config, run)}
    if run.role == "student":
        return {**fields, "weak_model": run.weak}
    return {**fields, "weak_model": run.supervisor, "chain": run.chain, "loss": run.loss}


def finetune_params(config: dict, run: Run) -> dict:
    """What a training job reads besides its model's training params: its targets, loss and identity."""
    student = run.role in ("student", "chain")
    target = of_entry(config["datasets"][run.dataset]).target_column(student)
    params = {
        "target_column": target,
        "loss_name": run.loss if student else "xent",
        "loss_entry": config["losses"][run.loss] if student else {"type": "xent"},
        "info": run_info(config, run),
        "supervision": supervision(config, run),
    }
    if writes_labels(config, run.role):
        params["label_info"] = label_info(run)
    if stops_early(
        config, run.role, "any"
    ):  # absent when off: turning it on reruns strong runs only
        params["early_stopping"] = stopping_method(config)
    return params


def crossfit_params(config: dict, labeller: Run, link: Run) -> dict:
    """What a chain link's cross-fitted labels depend on besides its model's training params: its loss, the
    supervision it trained on, the folds, and what the labels record (`labeller`: the run the labelling model is,
    `link`: the chain link whose labels they are)."""
    return {
        "loss_name": link.loss,
        "loss_entry": config["losses"][link.loss],
        "supervision": supervision(config, labeller),
        "folds": chain_folds(config),
        "info": chain_label_info(link),
    }
