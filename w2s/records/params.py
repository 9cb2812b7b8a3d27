"""The params a model job reads, typed: what a training, prediction, zero-shot or k-shot job, or a backbone's
activations, depends on. Parse time builds them (w2s.pipeline.rule_params) and hands the rules their serialised
form, `to_dict()`; a job reads them back with `from_dict`. Snakemake compares the repr of that form to decide what
reruns, so it is frozen: the keys in field order, an optional field absent (not None) where it is off, exactly as
the plain dicts these classes replace were written (tests/golden/rule_params.json checks every shipped config).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

from w2s.errors import W2SError


class BadParams(W2SError):
    """A job's params do not have the keys its kind of params needs (a hand-edited or foreign job file)."""


@dataclass(frozen=True, kw_only=True)
class JobParams:
    """The serialised form of the subclasses. `OPTIONAL`: the fields left out of it while None (each was added
    after grids existed, or belongs to one task kind only, so that the params of everything else stay as they
    were)."""

    OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not (f.name in self.OPTIONAL and getattr(self, f.name) is None)
        }

    @classmethod
    def from_dict(cls, params: dict | JobParams):
        if isinstance(params, cls):
            return params
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(params) - names)
        missing = sorted(names - cls.OPTIONAL - set(params))
        if unknown or missing:
            raise BadParams(
                f"{cls.__name__}: unknown keys {unknown}, missing keys {missing} (expected the keys "
                f"{sorted(names)}, of which {sorted(cls.OPTIONAL)} may be absent)"
            )
        return cls(**params)


TASK_KIND_FIELDS = frozenset({"answers", "pairs"})  # what a task kind adds (w2s.kinds task_params)


@dataclass(frozen=True, kw_only=True)
class TrainingParams(JobParams):
    """Everything a finetuning run's result depends on besides its data and loss."""

    OPTIONAL = frozenset({"mode", "lora", *TASK_KIND_FIELDS})

    source: str  # what the run starts from: a hub id or path, or a folder the pipeline builds
    dtype: str  # of the jobs that predict with its checkpoint (training computes in float32)
    head_init: str
    label_tokens: list[str] | None
    trust_remote_code: bool
    max_length: int
    mode: str | None = None  # "probe": a linear probe on the backbone's activations
    lora: dict | None = None
    answers: dict | None = None  # a generated-answer task's answer format
    pairs: bool | None = None  # a comparison task: the model is a reward model
    settings: (
        dict  # the recipe, w2s.training.settings.TrainSettings's fields (in the config's key order)
    )
    predict_batch_size: int
    deepspeed: dict | None  # the launch, or None for a plain run

    @property
    def probe(self) -> bool:
        return self.mode == "probe"


@dataclass(frozen=True, kw_only=True)
class PredictionParams(JobParams):
    """What predicting with a trained model (its checkpoint) depends on; the training recipe reaches these jobs
    through the checkpoint file. `deepspeed` is there where the model trained in several processes."""

    OPTIONAL = frozenset({"deepspeed", *TASK_KIND_FIELDS})

    dtype: str
    trust_remote_code: bool
    max_length: int
    predict_batch_size: int
    autocast: str
    deepspeed: dict | None = None
    answers: dict | None = None
    pairs: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ZeroShotParams(JobParams):
    """What scoring a base model's own answer depends on; with `few_shot` ({k, separator}), its answers to k-shot
    prompts (then `max_length` is a whole prompt's)."""

    OPTIONAL = frozenset({"deepspeed", *TASK_KIND_FIELDS, "few_shot"})

    source: str
    label_tokens: list[str] | None  # None: a comparison read by each completion's likelihood
    dtype: str
    trust_remote_code: bool
    max_length: int
    predict_batch_size: int
    autocast: str
    deepspeed: dict | None = None
    answers: dict | None = None
    pairs: bool | None = None
    few_shot: dict | None = None


@dataclass(frozen=True, kw_only=True)
class ActivationParams(JobParams):
    """What a backbone's activations of a split (for linear probes) depend on."""

    OPTIONAL = frozenset({"deepspeed"})

    source: str
    dtype: str
    trust_remote_code: bool
    max_length: int
    predict_batch_size: int
    autocast: str
    deepspeed: dict | None = None


ModelParams = (
    TrainingParams | PredictionParams | ZeroShotParams
)  # what a task kind's model code reads
