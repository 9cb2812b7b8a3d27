"""Validating a config against the schema (filling defaults) and checking the references between its entries."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from w2s.data.world import MARKS
from w2s.errors import W2SError
from w2s.models.paths import check_model_path

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


def _with_defaults(validator_class):
    """A validator that fills in each property's `default` before validating, as Snakemake's `validate` does."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    default = sub["default"]
                    instance[name] = type(default)(default) if isinstance(default, (dict, list)) else default
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def validate_config(config: dict) -> dict:
    """Fill defaults in place and raise W2SError naming the first offending key; return the config."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), key_path(e)))
    if errors:
        error = errors[0]
        best = jsonschema.exceptions.best_match([error]) if not error.context else error.context[0]
        raise W2SError(f"config key {key_path(error)}: {best.message}")
    check_references(config)
    return config


MODEL_SOURCES = ("path", "build", "pretrain")


def label_tokens(entry: dict) -> list[str] | None:
    """A model's (negative, positive) label tokens: given, or the world's source marks for a world-pretrained one."""
    if "label_tokens" in entry:
        return entry["label_tokens"]
    return [MARKS[False], MARKS[True]] if "pretrain" in entry else None


def check_references(config: dict) -> None:
    models = config["models"]
    for name, entry in models.items():
        if sum(key in entry for key in MODEL_SOURCES) != 1:
            raise W2SError(f"config key models.{name}: give exactly one of {', '.join(map(repr, MODEL_SOURCES))}")
        world = entry.get("pretrain", {}).get("world")
        if world is not None and world not in config["worlds"]:
            raise W2SError(f"config key models.{name}.pretrain.world: world {world!r} is not declared under worlds "
                           f"(declared: {list(config['worlds'])})")
        if entry["head_init"] == "readout" and not label_tokens(entry):
            raise W2SError(f"config key models.{name}.head_init: readout needs label_tokens")
        if "path" in entry:
            check_model_path(entry["path"], key=f"config key models.{name}.path")
        if entry["minibatch_size"] > entry["batch_size"]:
            raise W2SError(f"config key models.{name}.minibatch_size: {entry['minibatch_size']} exceeds batch_size "
                           f"{entry['batch_size']}")
    for name, entry in config["datasets"].items():
        world = entry.get("options", {}).get("world")
        if entry["kind"] == "world" and world not in config["worlds"]:
            raise W2SError(f"config key datasets.{name}.options.world: {world!r} is not declared under worlds "
                           f"(declared: {list(config['worlds'])})")
    if isinstance(config["pairs"], list):
        for i, pair in enumerate(config["pairs"]):
            for role in ("weak", "strong"):
                if pair[role] not in models:
                    raise W2SError(f"config key pairs.{i}.{role}: model {pair[role]!r} is not declared under models "
                                   f"(declared: {list(models)})")
            if pair["weak"] == pair["strong"]:
                raise W2SError(f"config key pairs.{i}: weak and strong are the same model {pair['weak']!r}")
    elif len(models) < 2:
        raise W2SError("config key pairs: 'all' needs at least two models")
