"""The training recipe the benchmarks run: the config schema's defaults (the one place they live), read from the
schema file itself so that a machine without jsonschema (the GPU machine) reads the same, with what a benchmark sets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from w2s.training.settings import TrainSettings

SCHEMA = Path(__file__).resolve().parents[1] / "w2s/pipeline/config.schema.yaml"


def recipe(**settings) -> TrainSettings:
    """The schema's training defaults, with `settings`: lr, batch_size, minibatch_size and seed at least (a config
    gives those from its model entries and seeds), and any default a benchmark replaces."""
    training = yaml.safe_load(SCHEMA.read_text())["properties"]["training"]["properties"]
    fields = {field.name for field in dataclasses.fields(TrainSettings)}
    defaults = {name: spec["default"] for name, spec in training.items() if name in fields}
    return TrainSettings(**defaults | settings)
