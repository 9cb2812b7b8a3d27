"""The task kinds, each in a module of its own: classification, generated answers and comparisons. A kind decides
what a job does with its rows (the run it trains, what an evaluation measures, the model a prediction job loads,
its labels and predictions files, a k-shot prompt's worked examples); the rest of the pipeline asks the kind.

A dataset's kind is chosen once from its config entry (`of_entry`); a job reads it from the params its rule wrote
(`of_params`: a generated-answers task's params carry its answer format, `answers`; a comparison's have `pairs`
true), so the params' serialised form is what it was before kinds had modules, and no finished job reruns.

A fourth kind is a module with the same methods (w2s.kinds.classification's Classification is the interface), an
entry below, and what tells it apart in `of_entry` and `of_params`."""

from __future__ import annotations

from w2s.data.answers import is_generative
from w2s.data.registry import is_pairwise
from w2s.kinds.answers import ANSWERS
from w2s.kinds.classification import CLASSIFICATION
from w2s.kinds.comparisons import COMPARISONS
from w2s.records.params import ModelParams

KINDS = {kind.name: kind for kind in (CLASSIFICATION, ANSWERS, COMPARISONS)}


def of_entry(entry: dict):
    """The kind of a dataset entry of the config."""
    if is_generative(entry):
        return ANSWERS
    return COMPARISONS if is_pairwise(entry) else CLASSIFICATION


def of_params(params: ModelParams):
    """The kind of a job, from its params."""
    if params.answers is not None:
        return ANSWERS
    return COMPARISONS if params.pairs else CLASSIFICATION
