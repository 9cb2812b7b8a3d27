"""The checks of a config that span its entries, after the schema's (w2s.pipeline.config): the references between
models, pairs, ensembles, chains and datasets, what each task kind and loss allows, and the settings that only
make sense together. Each error names the config key and what was expected."""

from __future__ import annotations

import jsonschema

from w2s.data.facts import MARKS
from w2s.data.prompting import TRUTH
from w2s.data.registry import check_options, check_world_format
from w2s.errors import W2SError
from w2s.hub import looks_like_local_path
from w2s.kinds import of_entry
from w2s.models.paths import check_model_path


def key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


MODEL_SOURCES = ("path", "build", "pretrain", "backbone")


# Each loss type's parameters (tests/test_catalogues.py checks them against the loss classes): one the loss does not
# take is an error now, not when its first student starts.
def check_loss(name: str, entry: dict) -> None:
    """A loss entry against its class (w2s.training.losses): a known type, and options of that class's schema."""
    from w2s.training.ground_truth import OPTION as GROUND_TRUTH
    from w2s.training.ground_truth import SCHEMA as GROUND_TRUTH_SCHEMA
    from w2s.training.losses import LOSSES

    if entry["type"] not in LOSSES:
        raise W2SError(
            f"config key losses.{name}.type: {entry['type']!r} is not one of {sorted(LOSSES)}"
        )
    options = {
        **LOSSES[entry["type"]].options,
        GROUND_TRUTH: GROUND_TRUTH_SCHEMA,
    }  # every loss takes a budget
    unknown = sorted(set(entry) - {"type", *options})
    if unknown:
        raise W2SError(
            f"config key losses.{name}: loss type {entry['type']!r} takes no parameter {unknown[0]!r} "
            f"(it takes {list(options) or 'none'})"
        )
    schema = {"type": "object", "properties": options}
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(entry)
    )
    if error:
        raise W2SError(f"config key losses.{name}.{key_path(error)}: {error.message}")


def label_tokens(entry: dict) -> list[str] | None:
    """A model's (negative, positive) label tokens: given, or the world's source marks for a world-pretrained one."""
    if "label_tokens" in entry:
        return entry["label_tokens"]
    return [MARKS[False], MARKS[True]] if "pretrain" in entry else None


def check_ensembles(config: dict) -> None:
    """Ensembles: named apart from the models, of declared models, where their combination is defined."""
    for name, entry in config["ensembles"].items():
        key = f"config key ensembles.{name}"
        if name in config["models"]:
            raise W2SError(f"{key}: {name!r} is a model's name too; give the ensemble its own")
        unknown = [m for m in entry["members"] if m not in config["models"]]
        if unknown:
            raise W2SError(
                f"{key}.members: {unknown[0]!r} is not declared under models (declared: {list(config['models'])})"
            )
        if not any(of_entry(e).supervised_by_ensembles for e in config["datasets"].values()):
            raise W2SError(
                f"{key}: every dataset asks for generated answers, which an ensemble cannot combine (it "
                "averages soft labels of two classes): it would supervise nothing; give the config a "
                "classification or comparison task"
            )


def check_few_shot(config: dict) -> None:
    """k-shot prompts: "truth" names the true labels' prompts (results/few_shot/<dataset>/seed<s>/truth/), so no
    supervisor may be called that; and on classification tasks a model needs label tokens to answer them."""
    if not config["few_shot"]:
        return
    if TRUTH in [*config["models"], *config["ensembles"]]:
        raise W2SError(
            f"config key few_shot: {TRUTH!r} names the prompts with true labels; rename the model or ensemble"
        )
    datasets = config["datasets"].values()
    answered = any(of_entry(d).answers_untrained for d in datasets)
    if not answered and not any(label_tokens(entry) for entry in config["models"].values()):
        raise W2SError(
            "config key few_shot: no model answers k-shot prompts: on a classification task a model needs "
            "label_tokens (the tokens its answer is read from)"
        )


def check_losses_train(config: dict) -> None:
    """Every loss trains a student on some dataset: a loss every dataset's kind refuses (w2s.kinds) trains none."""
    for name, entry in config["losses"].items():
        refusals = [of_entry(d).loss_refusal(entry["type"]) for d in config["datasets"].values()]
        if all(refusals):
            raise W2SError(
                f"config key losses.{name}: loss type {entry['type']!r} {refusals[0]}: it would train no student"
            )


# World keys only one type reads (the schema gives them no default): on another type they would be ignored.
TYPE_ONLY_KEYS = {
    "chess": ("depth", "max_plies", "capture_rate"),
    "folk_facts": (
        "families",
        "exceptions",
        "folk_share",
        "expert_families",
        "coverage_spread",
        "ruleless_families",
    ),
    "nim": ("heuristic_share", "expert_bands"),
}


def check_references(config: dict) -> None:
    for name, entry in config["worlds"].items():
        for world_type, keys in TYPE_ONLY_KEYS.items():
            misplaced = [key for key in keys if key in entry]
            if misplaced and entry["type"] != world_type:
                raise W2SError(
                    f"config key worlds.{name}.{misplaced[0]}: only a {world_type} world has it (this one is "
                    f"{entry['type']})"
                )
    models = config["models"]
    for name, entry in models.items():
        if sum(key in entry for key in MODEL_SOURCES) != 1:
            raise W2SError(
                f"config key models.{name}: give exactly one of {', '.join(map(repr, MODEL_SOURCES))}"
            )
        backbone = entry.get("backbone")
        if backbone is not None and (backbone not in models or "backbone" in models[backbone]):
            raise W2SError(
                f"config key models.{name}.backbone: {backbone!r} is not a model entry with a path, build "
                f"or pretrain of its own (declared: {list(models)})"
            )
        world = entry.get("pretrain", {}).get("world")
        if world is not None and world not in config["worlds"]:
            raise W2SError(
                f"config key models.{name}.pretrain.world: world {world!r} is not declared under worlds "
                f"(declared: {list(config['worlds'])})"
            )
        if entry["head_init"] == "readout" and not label_tokens(entry):
            raise W2SError(f"config key models.{name}.head_init: readout needs label_tokens")
        if "path" in entry:
            check_model_path(entry["path"], key=f"config key models.{name}.path")
        if "revision" in entry and (
            "path" not in entry or looks_like_local_path(entry["path"]) or "@" in entry["path"]
        ):
            raise W2SError(
                f"config key models.{name}.revision: a revision is of a hub repository; give it with a hub "
                "id as path (org/name, without @), not with a local directory, build or pretrain"
            )
        if entry.get("convert_pickle") and (
            "path" not in entry or looks_like_local_path(entry["path"])
        ):
            raise W2SError(
                f"config key models.{name}.convert_pickle: conversion is of a hub revision's pickled weights; give "
                "it with a hub id as path (a local folder of yours you can convert yourself: docs/configuration.md)"
            )
        if entry["minibatch_size"] > entry["batch_size"]:
            raise W2SError(
                f"config key models.{name}.minibatch_size: {entry['minibatch_size']} exceeds batch_size "
                f"{entry['batch_size']}"
            )
    for name, entry in config["losses"].items():
        check_loss(name, entry)
    shards, test_shards = config["labelling"]["shards"], config["labelling"]["test_shards"]
    for name, entry in config["datasets"].items():
        if shards > entry["n_strong_train"]:
            raise W2SError(
                f"config key labelling.shards: {shards} shards of dataset {name}'s "
                f"{entry['n_strong_train']} strong_train rows would leave some empty; use at most as many "
                "shards as rows"
            )
        if test_shards > entry["n_test"]:
            raise W2SError(
                f"config key labelling.test_shards: {test_shards} shards of dataset {name}'s "
                f"{entry['n_test']} test rows would leave some empty; use at most as many shards as rows"
            )
        world = entry.get("options", {}).get("world")
        if entry["kind"] == "world" and world not in config["worlds"]:
            raise W2SError(
                f"config key datasets.{name}.options.world: {world!r} is not declared under worlds "
                f"(declared: {list(config['worlds'])})"
            )
        check_options(name, entry)
        check_world_format(name, entry, config["worlds"])
        of_entry(entry).check(config, name)
    check_losses_train(config)
    training = config["training"]
    if training["early_stopping"] != "none" and not training["eval_every"]:
        raise W2SError(
            f"config key training.early_stopping: {training['early_stopping']} chooses among the "
            "evaluations every training.eval_every steps, which is 0 (the end only); set eval_every"
        )
    check_ensembles(config)
    check_few_shot(config)
    if isinstance(config["pairs"], list):
        for i, pair in enumerate(config["pairs"]):
            for role in ("weak", "strong"):
                if pair[role] not in models and not (
                    role == "weak" and pair[role] in config["ensembles"]
                ):
                    raise W2SError(
                        f"config key pairs.{i}.{role}: model {pair[role]!r} is not declared under models "
                        f"(declared: {list(models)})"
                        + (f" or ensembles ({list(config['ensembles'])})" if role == "weak" else "")
                    )
        seen = [(pair["weak"], pair["strong"]) for pair in config["pairs"]]
        for i, pair in enumerate(seen):
            if pair in seen[:i]:
                raise W2SError(
                    f"config key pairs.{i}: repeats pairs.{seen.index(pair)} ({pair[0]} -> {pair[1]})"
                )
    elif len(models) < 2:
        raise W2SError("config key pairs: 'all' needs at least two models")
    for name, entry in models.items():
        if entry["mode"] == "probe" and (
            "deepspeed" in entry or entry["head_init"] == "readout" or "lora" in entry
        ):
            raise W2SError(
                f"config key models.{name}.mode: a linear probe trains its head alone, in one process, from "
                "a zero or random head: drop deepspeed, lora and head_init readout"
            )
    for i, chain in enumerate(config["chains"]):
        for model in chain:
            if model not in models:
                raise W2SError(
                    f"config key chains.{i}: model {model!r} is not declared under models (declared: "
                    f"{list(models)})"
                )
    check_few_shot(config)
