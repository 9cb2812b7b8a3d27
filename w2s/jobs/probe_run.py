"""A linear probe's run: a probe on a backbone's cached activations of each split (the whole model's runs are each
kind's: w2s.kinds)."""

from __future__ import annotations

import polars as pl

from w2s.kinds.classification import FinetuneRun
from w2s.models.paths import local_model_dir
from w2s.models.probe import LinearProbe, read_activations, truncated_texts
from w2s.records.params import TrainingParams


class ProbeRun:
    """A run that trains a linear probe on the backbone's cached activations of each split (w2s.models.probe)."""

    answer_lengths = None  # a probe classifies (a generative task refuses probes)

    def __init__(self, params: TrainingParams, activations: dict, frames: dict[str, pl.DataFrame]):
        self.source, self.max_length, self.pad_id = params.source, params.max_length, 0
        files = {name: activations[name] for name in frames}
        self.module = LinearProbe(
            {name: read_activations(files[name], len(frames[name])) for name in frames},
            params.head_init,
        )
        self.ids = {name: (self.module.ids(name), truncated_texts(files[name])) for name in frames}

    keep_rows = FinetuneRun.keep_rows  # its ids are split rows too, sliced the same way

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, local_model_dir(self.source), state)
