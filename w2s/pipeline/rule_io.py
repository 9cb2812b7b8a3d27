"""The rules' inputs and outputs: which files a job reads and writes, as functions of its wildcards."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from w2s.data.prompting import TRUTH
from w2s.pipeline.grid import (
    Run,
    chain_labelling,
    chain_train_split,
    is_probe,
    keeps_checkpoint,
    stops_early,
    test_shards,
    training_split,
    uses_validation,
    writes_labels,
)
from w2s.pipeline.paths import (
    ACTIVATIONS,
    CHAIN_LABELS,
    CHAIN_VALIDATION_LABELS,
    DATA,
    ENSEMBLE,
    LABEL_SHARD,
    LABELS,
    RUN_FOLDERS,
    TEST_SHARD,
    VALIDATION_LABELS,
    WEAK_CHECKPOINT,
    WORLD,
    log_folder,
    scored_outputs,
    split_file,
)
from w2s.pipeline.rule_params import chain_label_info, label_info, model_source, run_source


def local_files(path: str) -> list[str]:
    """The files of a local directory (recursively, hidden ones left out), or [path] for a file: as Snakemake inputs,
    so that editing any of them reruns what reads them (a directory's own mtime moves only when entries come or go)."""
    if not os.path.isdir(path):
        return [path]
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [os.path.join(root, name) for name in sorted(names) if not name.startswith(".")]
    return files


def base_model_inputs(config: dict, model: str) -> list[str]:
    """What a finetuning run starts from, when it is something the workflow can track: a directory the workflow
    builds, or every file of a local model directory."""
    entry = config["models"][model]
    if "backbone" in entry:
        return base_model_inputs(config, entry["backbone"])
    source = model_source(config, model)
    if "build" in entry or "pretrain" in entry:
        return [source]
    return local_files(source) if os.path.isdir(source) else []


def run_start_inputs(config: dict, model: str, dataset: str, seed) -> list[str]:
    if "generative_finetune" in config["models"][model]:
        return [run_source(config, model, dataset, seed)]
    return base_model_inputs(config, model)


def world_input(world: str | None) -> list[str]:
    return [WORLD.format(world=world)] if world else []


def dataset_inputs(config: dict, dataset: str) -> list[str]:
    """Files a dataset's split job reads: a world's task, a local data file, local `data_files`, or every file of a
    local dataset directory given as `source`; a hub id is nothing the workflow can track."""
    entry = config["datasets"][dataset]
    options = entry.get("options", {})
    if entry["kind"] == "world":
        return world_input(options.get("world"))
    if entry["kind"] == "local":
        return [options["path"]] if "path" in options else []
    if (
        entry["kind"] == "lichess_puzzles"
    ):  # the puzzles and the ratings, each a hub id or a local folder
        folders = [options.get("source"), options.get("ratings_source")]
        return [
            f for folder in folders if folder and os.path.isdir(folder) for f in local_files(folder)
        ]
    data_files = options.get("data_files")
    if data_files:
        return [data_files] if isinstance(data_files, str) else list(data_files)
    source = options.get("source")
    return local_files(source) if source and os.path.isdir(source) else []


def generative_texts(config: dict, model: str) -> list[str]:
    """The split files whose texts a generative finetuning learns, dataset and seed left as wildcards."""
    return [split_file(split) for split in config["models"][model]["generative_finetune"]["splits"]]


def probe_activations(config: dict, wildcards, split: str | Callable) -> list[str]:
    """A linear probe's activations of `split` (a name, or a function of the wildcards giving one; none for a
    finetuned model)."""
    if not is_probe(config, wildcards.model):
        return []
    fields = {"dataset": wildcards.dataset, "seed": wildcards.seed, "model": wildcards.model}
    return [ACTIVATIONS.format(**fields, split=split(wildcards) if callable(split) else split)]


def ensemble_member_files(config: dict, wildcards, pattern: str) -> list[str]:
    """A file of each member of the ensemble `wildcards.ensemble` (a labels file, or a run folder's file)."""
    here = {"dataset": wildcards.dataset, "seed": wildcards.seed}
    members = config["ensembles"][wildcards.ensemble]["members"]
    return [pattern.format(**here, model=member) for member in members]


def ensemble_validation_files(config: dict, wildcards) -> list[str]:
    """The members' labels of the validation split: what a fitted ensemble's weights are fitted on, and what its
    labels of validation (early_stopping weak_val) combine."""
    fitted = config["ensembles"][wildcards.ensemble]["weighting"] == "fitted"
    if not fitted and not stops_early(config, "student"):
        return []
    return ensemble_member_files(config, wildcards, VALIDATION_LABELS)


def ensemble_outputs(config: dict) -> dict:
    """An ensemble's labels of strong_train, its test predictions and metrics, and with early_stopping weak_val its
    labels of the validation split (its students stop where they agree best with them)."""
    outputs = {
        "labels": LABELS.replace("{model}", "{ensemble}"),
        "predictions": f"{ENSEMBLE}/test_predictions.parquet",
        "metrics": f"{ENSEMBLE}/metrics.json",
    }
    if stops_early(config, "student"):
        outputs["validation_labels"] = VALIDATION_LABELS.replace("{model}", "{ensemble}")
    return outputs


def supervisor_labels(run: Run, split: str = "strong_train") -> str:
    """The labels file of `split` that a student or chain link learns from (or stops early by): its weak model's,
    or the previous chain link's."""
    here = {"dataset": run.dataset, "seed": run.seed}
    if run.role == "student":
        pattern = LABELS if split == "strong_train" else VALIDATION_LABELS
        return pattern.format(**here, model=run.weak)
    pattern = CHAIN_LABELS if split == "strong_train" else CHAIN_VALIDATION_LABELS
    return pattern.format(**here, chain=run.chain, loss=run.loss, model=run.supervisor)


def training_inputs(config: dict, role: str) -> dict:
    """A training job's inputs: its training targets, the test split, the base model (and the split it labels,
    the validation data it stops early by, a probe's activations of each)."""
    train = {
        "weak": split_file("weak_train"),
        "ceiling": split_file("strong_train"),
    }.get(role, lambda w: supervisor_labels(Run.of(role, w)))
    inputs = {
        "train": train,
        "test": split_file("test"),
        "base": lambda w: run_start_inputs(config, w.model, w.dataset, w.seed),
    }
    splits = {"train": lambda w: training_split(config, Run.of(role, w)), "test": "test"}
    if writes_labels(config, role):
        inputs["label_split"], splits["label"] = split_file("strong_train"), "strong_train"
    if stops_early(config, role):  # by agreement with the run's own supervision on validation
        inputs["validation"] = (
            split_file("validation")
            if role == "ceiling"
            else lambda w: supervisor_labels(Run.of(role, w), "validation")
        )
        splits["validation"] = "validation"
    for name, split in splits.items():
        inputs[f"activations_{name}"] = lambda w, split=split: probe_activations(config, w, split)
    return inputs


def run_outputs(config: dict, folder: str) -> dict:
    """The files a training job writes into its run folder: with test_shards > 1 the scored outputs come from the
    shard jobs instead (`scored_outputs`)."""
    from snakemake.io import directory

    outputs = {
        "checkpoint": directory(f"{folder}/checkpoint"),
        "trajectory": f"{folder}/trajectory.jsonl",
        "training": f"{folder}/training.json",
    }
    return outputs if test_shards(config) > 1 else {**outputs, **scored_outputs(folder)}


def training_outputs(config: dict, role: str) -> dict:
    from snakemake.io import directory, temp

    folder = RUN_FOLDERS[role]
    outputs = run_outputs(config, folder)
    if not keeps_checkpoint(config, role):  # deleted by Snakemake once no job still needs it
        outputs["checkpoint"] = temp(outputs["checkpoint"])
    if stops_early(config, role, "any"):
        outputs["early_stopping"] = f"{folder}/early_stopping.json"
    if stops_early(
        config, role
    ):  # the weak_val early stop kept as a model, with its test predictions
        outputs["early_stop_weak_val"] = directory(f"{folder}/early_stop_weak_val")
    return {**outputs, "labels": LABELS} if writes_labels(config, role) else outputs


def test_shard_files(config: dict, folder: str, wildcards) -> list[str]:
    shards = test_shards(config)
    pattern = TEST_SHARD.format(run=folder)
    return [
        pattern.format(**dict(wildcards.items()), shard=s, shards=shards) for s in range(shards)
    ]


def label_shard_files(config: dict, dataset: str, seed, model: str) -> list[str]:
    shards = config["labelling"]["shards"]
    here = {"dataset": dataset, "seed": seed, "model": model}
    return [LABEL_SHARD.format(**here, shard=shard, shards=shards) for shard in range(shards)]


def seed_splits(config: dict, wildcards, split: str) -> list[str]:
    """A dataset's `split` of every seed, in the config's order of seeds: the inputs of a zero-shot or k-shot job,
    which scores every seed's test split (its outputs are one run folder per seed)."""
    return [DATA.format(dataset=wildcards.dataset, seed=s, split=split) for s in config["seeds"]]


def few_shot_labels(config: dict, wildcards) -> list[str]:
    """A k-shot job's examples' labels besides strong_train's truth: its weak model's labels file of every seed
    (none where the examples show the truth)."""
    if wildcards.shots == TRUTH:
        return []
    here = {"dataset": wildcards.dataset, "model": wildcards.shots}
    return [LABELS.format(**here, seed=s) for s in config["seeds"]]


# A bootstrapping chain's labels: a job of CHAIN_LABELS (wildcards dataset, seed, chain, loss, model) labels
# strong_train with the chain's link `model`, for the next link.


def chain_link(wildcards) -> Run:
    """The chain link whose labels a job writes (its chain and loss; for the second model, its first student)."""
    return Run.of("chain", wildcards)


def labeller_run(wildcards) -> Run:
    """The run the labelling link is: the chain's first student (the direct student of its second model), or a
    chain link."""
    link = chain_link(wildcards)
    if link.links.index(link.model) == 1:
        return Run("student", link.dataset, link.seed, link.model, link.weak, link.loss)
    return link


def chain_link_training_labels(wildcards) -> str:
    """The labels of strong_train that the labelling link trained on: its supervisor's."""
    return supervisor_labels(labeller_run(wildcards))


def chain_labeller_checkpoint(wildcards) -> str:
    return f"{labeller_run(wildcards).folder}/checkpoint"


def next_link_split(wildcards) -> str:
    """With chain_folds fresh, the split a chain link labels for the next link: the next link's own."""
    link = chain_link(wildcards)
    return chain_train_split(link.links.index(link.model) + 1)


def crossfit_activation_inputs(config: dict) -> dict:
    """A cross-fitting job's inputs for a linear probe link: its activations of strong_train and test (none for a
    finetuned link)."""
    return {
        f"activations_{name}": lambda w, split=split: probe_activations(config, w, split)
        for name, split in (("split", "strong_train"), ("test", "test"))
    }


@dataclass(frozen=True)
class PredictionRule:
    """A rule that labels a split with a trained checkpoint in one job (w2s.jobs.run.label_split)."""

    name: str
    checkpoint: str | Callable  # a pattern, or a function of the wildcards
    split: str | Callable  # a split's name, or a function of the wildcards giving one
    output: str
    info: Callable  # what the labels record, a function of the wildcards

    @property
    def split_input(self) -> str | Callable:
        """The rule's input of the split it labels."""
        if not callable(self.split):
            return split_file(self.split)
        return lambda w: DATA.format(dataset=w.dataset, seed=w.seed, split=self.split(w))

    @property
    def log(self) -> str:
        return log_folder(self.output).removesuffix(".parquet") + ".log"


def prediction_rules(config: dict) -> list[PredictionRule]:
    """The labelling rules besides the weak model's sharded labels of strong_train (rule label_strong_train): the
    weak model's labels of the validation split (early_stopping weak_val: a student stops where it agrees best
    with them), and a chain link's labels for the next link, of strong_train in-sample (chain_folds 1; cross-fitted
    ones come from rule crossfit_chain_labels) or of the next link's fresh split (chain_folds fresh), and of the
    validation split."""
    rules = []
    if uses_validation(config):
        rules.append(
            PredictionRule(
                "label_validation",
                WEAK_CHECKPOINT,
                "validation",
                VALIDATION_LABELS,
                lambda w: label_info(Run.of("weak", w), "validation"),
            )
        )
    if config["chains"] and chain_labelling(config) == "in_sample":
        rules.append(
            PredictionRule(
                "label_chain_link",
                chain_labeller_checkpoint,
                "strong_train",
                CHAIN_LABELS,
                lambda w: chain_label_info(chain_link(w)),
            )
        )
    if config["chains"] and chain_labelling(config) == "fresh":
        rules.append(
            PredictionRule(
                "label_chain_link",
                chain_labeller_checkpoint,
                next_link_split,
                CHAIN_LABELS,
                lambda w: chain_label_info(chain_link(w), next_link_split(w)),
            )
        )
    if config["chains"] and uses_validation(config):
        rules.append(
            PredictionRule(
                "label_chain_validation",
                chain_labeller_checkpoint,
                "validation",
                CHAIN_VALIDATION_LABELS,
                lambda w: chain_label_info(chain_link(w), "validation"),
            )
        )
    return rules
