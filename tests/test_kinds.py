"""The task kinds (w2s.kinds): chosen once from a dataset's config entry, carried to the jobs in their params, and
each kind answering the whole interface, so that the rest of the pipeline asks the kind instead of re-detecting it."""

from __future__ import annotations

import inspect

import pytest
from snakemake_helpers import REPO

from w2s.kinds import ANSWERS, CLASSIFICATION, COMPARISONS, KINDS, of_entry, of_params
from w2s.kinds.classification import Classification
from w2s.pipeline.config import read_config_file, validate_config
from w2s.pipeline.rule_params import training_params, zero_shot_params


@pytest.mark.parametrize(
    "configfile, dataset, kind",
    [
        ("config.yaml", "folk_facts", CLASSIFICATION),
        ("configs/folk_questions.yaml", "folk_questions", ANSWERS),
        ("configs/nim.yaml", "nim_moves", ANSWERS),
        ("configs/chess.yaml", "puzzles", ANSWERS),
        ("configs/reward_model.yaml", "folk_preferences", COMPARISONS),
    ],
)
def test_a_datasets_kind_is_chosen_from_its_entry_and_read_back_from_every_jobs_params(
    configfile, dataset, kind
):
    config = validate_config(read_config_file(REPO / configfile))
    assert dataset in config["datasets"], sorted(config["datasets"])
    assert of_entry(config["datasets"][dataset]) is kind
    model = next(iter(config["models"]))
    assert of_params(training_params(config, model, dataset, 0)) is kind
    assert of_params(zero_shot_params(config, model, dataset)) is kind


def test_every_kind_answers_the_whole_interface():
    """Classification's public methods and attributes are the interface: a kind missing one would fail in a job."""
    interface = {name for name, _ in inspect.getmembers(Classification) if not name.startswith("_")}
    assert {"training_run", "evaluation", "predict", "task_params", "target_column"} <= interface
    for kind in KINDS.values():
        assert interface <= {name for name in dir(kind) if not name.startswith("_")}, kind.name
    assert set(KINDS) == {"classification", "answers", "comparisons"}


def test_the_kinds_parse_time_facts():
    assert [k.transcripts for k in (CLASSIFICATION, ANSWERS, COMPARISONS)] == [1, 1, 2]
    assert [k.trains_language_model for k in (CLASSIFICATION, ANSWERS, COMPARISONS)] == [
        False,
        True,
        False,
    ]
    assert not ANSWERS.supervised_by_ensembles and not ANSWERS.has_chance_level
    assert [k.head_outputs for k in (CLASSIFICATION, ANSWERS, COMPARISONS)] == [2, 2, 1]
    assert [k.target_column(True) for k in (CLASSIFICATION, ANSWERS, COMPARISONS)] == [
        "soft_label",
        "generated",
        "soft_label",
    ]
    assert ANSWERS.loss_refusal("product") and not ANSWERS.loss_refusal("xent")
    assert CLASSIFICATION.loss_refusal("product") is None
