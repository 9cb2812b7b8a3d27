"""The compute of each GPU model job, counted from the model's size and the recipe: `w2s plan` turns it into GPU-hours
at a planned utilisation (config cluster.gpu_tflops, cluster.planned_mfu), beside the hours the jobs request.

A token costs 2N FLOPs forward and 6N forward and backward (8N where gradient checkpointing recomputes the forward),
N the model's parameters. Every row counts at max_length (capped at the context window): an upper bound, since most
rows are shorter and each pass is cut to its own longest row. Attention's FLOPs that grow with the length are left
out, as MFU conventions do.
"""

from __future__ import annotations

import math

from w2s.kinds import of_entry
from w2s.pipeline.grid import prompt_rows, uses_validation
from w2s.pipeline.memory import job_kind
from w2s.pipeline.model_shapes import Shape


def job_flops(config: dict, rule: str, wildcards: dict, shape: Shape) -> float:
    """The FLOPs of one job of `rule` (wildcards: its model, dataset and role's), 0 for a job that runs no model."""
    kind = job_kind(rule)
    entry, dataset = config["models"][wildcards["model"]], config["datasets"][wildcards["dataset"]]
    if kind == "prediction":
        return prediction_rows(config, rule, dataset) * row_forward_flops(
            config, wildcards["dataset"], shape
        )
    task = of_entry(dataset)
    transcripts = task.transcripts  # a comparison's two transcripts, each a row
    tokens = shape.context
    if task.trains_language_model or kind == "generative finetuning":
        shape = shape.as_language_model()
    forward, backward = (
        2 * shape.params,
        (6 if not entry["gradient_checkpointing"] else 8) * shape.params,
    )
    if kind == "generative finetuning":
        recipe = entry["generative_finetune"]
        return recipe["steps"] * recipe["batch_size"] * tokens * backward
    if kind == "training":
        trained, evaluated, labelled = training_rows(config, rule, entry, dataset)
        return (trained * backward + (evaluated + labelled) * forward) * transcripts * tokens
    return 0.0


def row_forward_flops(config: dict, dataset: str, shape: Shape) -> float:
    """One row's forward pass: 2N a token at max_length, for each transcript of a comparison, with a generative
    task's LM head."""
    task = of_entry(config["datasets"][dataset])
    if task.trains_language_model:
        shape = shape.as_language_model()
    return task.transcripts * shape.context * 2 * shape.params


def training_rows(config: dict, rule: str, entry: dict, dataset: dict) -> tuple[int, int, int]:
    """A training job's rows trained (every epoch's), rows evaluated (its test split, and validation split, every
    eval_every steps before the last and at the end) and rows labelled (strong_train, where a weak run labels it
    itself)."""
    rows = dataset["n_weak_train" if rule == "train_weak" else "n_strong_train"]
    training = config["training"]
    steps = math.ceil(rows / entry["batch_size"]) * training["epochs"]
    evaluations = ((steps - 1) // training["eval_every"] if training["eval_every"] else 0) + 1
    evaluated = evaluations * (
        dataset["n_test"] + (dataset["n_validation"] if uses_validation(config) else 0)
    )
    labels_itself = rule == "train_weak" and config["labelling"]["shards"] == 1
    return training["epochs"] * rows, evaluated, dataset["n_strong_train"] if labels_itself else 0


def evaluation_share(config: dict, rule: str, wildcards: dict) -> float:
    """The share of a training job's FLOPs its evaluations take (a forward pass a row, against the training's three
    passes' worth: forward and backward)."""
    entry, dataset = config["models"][wildcards["model"]], config["datasets"][wildcards["dataset"]]
    trained, evaluated, _ = training_rows(config, rule, entry, dataset)
    return evaluated / (evaluated + 3 * trained)


def prediction_rows(config: dict, rule: str, dataset: dict) -> float:
    """The rows a prediction job reads: a shard of strong_train or of test, a validation split, a chain link's
    next split, or every seed's test split (zero-shot, k-shot prompts)."""
    if rule == "label_strong_train":
        return dataset["n_strong_train"] / config["labelling"]["shards"]
    if "validation" in rule:
        return dataset["n_validation"]
    if rule == "label_chain_link":
        return dataset["n_strong_train"]
    if rule in (
        "score_zero_shot",
        "score_few_shot",
    ):  # a k-shot prompt's length is in its job's shape
        return dataset["n_test"] * len(config["seeds"])
    return (
        dataset["n_test"] / config["labelling"]["test_shards"]
    )  # predict_<role>_test: a test shard


def stage_rows(config: dict, stage: str, dataset: dict) -> float:
    """The most rows one job of a prediction stage (w2s.pipeline.cluster) reads: its runtime request covers every
    rule that stage sizes (labelling strong_train, a validation split or a chain link's split, a split's
    activations; a test shard; every seed's test split for zero-shot, k + 1 rows' worth of tokens per k-shot
    prompt)."""
    if stage == "predict_test":
        return dataset["n_test"] / config["labelling"]["test_shards"]
    if stage == "score_zero_shot":
        return dataset["n_test"] * len(config["seeds"])
    if stage == "score_few_shot":  # a prompt is k + 1 rows' worth of tokens
        return dataset["n_test"] * len(config["seeds"]) * prompt_rows(config)
    splits = ("n_weak_train", "n_strong_train", "n_test", "n_validation")
    return max(dataset.get(split) or 0 for split in splits)


def stage_flops(config: dict, stage: str, dataset: str, shape: Shape) -> float:
    """The forward FLOPs of the largest job of prediction stage `stage` on a dataset."""
    return stage_rows(config, stage, config["datasets"][dataset]) * row_forward_flops(
        config, dataset, shape
    )
