"""A model job's params, typed (w2s.records.params): parse time builds them, a rule hands its job their serialised
form, and the job reads that back into the same object. The serialised form itself is pinned by the golden
snapshot of every shipped config's rule params (tests/test_frozen_scripts.py)."""

from __future__ import annotations

import pytest
from snakemake_helpers import REPO

from w2s.pipeline import rule_params
from w2s.pipeline.config import read_config_file, validate_config
from w2s.records.params import (
    ActivationParams,
    BadParams,
    PredictionParams,
    TrainingParams,
    ZeroShotParams,
)

# a config of each kind, and those whose models train with DeepSpeed, LoRA or as linear probes
CONFIGS = [
    "config.yaml",
    "configs/folk_questions_methods.yaml",
    "configs/chess.yaml",
    "configs/reward_model.yaml",
    "configs/methods.yaml",
    "configs/paper_rm.yaml",
    "configs/paper_nlp_methods.yaml",
]


def every_params(config: dict):
    """Each kind of params for every model on every dataset of `config`, with the class a job reads it into."""
    for dataset in config["datasets"]:
        for model in config["models"]:
            yield TrainingParams, rule_params.training_params(config, model, dataset, 0)
            yield PredictionParams, rule_params.prediction_params(config, model, dataset)
            if "backbone" not in config["models"][model]:
                yield ZeroShotParams, rule_params.zero_shot_params(config, model, dataset)
                if config["few_shot"]:
                    yield ZeroShotParams, rule_params.few_shot_params(config, model, dataset)
            yield ActivationParams, rule_params.activation_params(config, model, dataset, 0)


@pytest.mark.parametrize("configfile", CONFIGS)
def test_a_job_reads_back_the_params_its_rule_serialised(configfile):
    config = validate_config(read_config_file(REPO / configfile))
    seen = set()
    for cls, params in every_params(config):
        serialised = params.to_dict()
        assert type(params) is cls
        assert cls.from_dict(serialised) == params
        # an optional field is absent where it is off, never written as None
        assert not any(serialised.get(name, 0) is None for name in cls.OPTIONAL), serialised
        seen |= {name for name in cls.OPTIONAL if name in serialised}
    wanted = {
        "config.yaml": set(),
        "configs/folk_questions_methods.yaml": {"answers", "few_shot"},
        "configs/chess.yaml": {"answers"},
        "configs/reward_model.yaml": {"pairs"},
        "configs/methods.yaml": {"mode", "few_shot"},
        "configs/paper_rm.yaml": {"pairs", "few_shot", "deepspeed"},
        "configs/paper_nlp_methods.yaml": {"few_shot", "deepspeed"},
    }[configfile]
    assert wanted <= seen  # the configs exercise the optional fields they are here for


def test_the_training_params_keep_a_plain_runs_launch_as_none():
    """`deepspeed` is always in a training run's params (None for a plain run), as it was before they were typed:
    dropping it would change every finished training job's params."""
    config = validate_config(read_config_file(REPO / "config.yaml"))
    model, dataset = next(iter(config["models"])), next(iter(config["datasets"]))
    serialised = rule_params.training_params(config, model, dataset, 0).to_dict()
    assert serialised["deepspeed"] is None
    assert list(serialised)[:6] == [
        "source",
        "dtype",
        "head_init",
        "label_tokens",
        "trust_remote_code",
        "max_length",
    ]
    assert list(serialised)[-3:] == ["settings", "predict_batch_size", "deepspeed"]


def test_params_of_the_wrong_shape_are_refused_by_name():
    config = validate_config(read_config_file(REPO / "config.yaml"))
    model, dataset = next(iter(config["models"])), next(iter(config["datasets"]))
    serialised = rule_params.prediction_params(config, model, dataset).to_dict()
    with pytest.raises(
        BadParams, match=r"PredictionParams: unknown keys \['lr'\], missing keys \[\]"
    ):
        PredictionParams.from_dict({**serialised, "lr": 0.1})
    without = {k: v for k, v in serialised.items() if k != "autocast"}
    with pytest.raises(BadParams, match=r"missing keys \['autocast'\]"):
        PredictionParams.from_dict(without)
    # a training job's params are not a prediction job's
    training = rule_params.training_params(config, model, dataset, 0).to_dict()
    with pytest.raises(BadParams, match="unknown keys .*'settings'"):
        PredictionParams.from_dict(training)
