"""The FLOPs of each GPU job that `w2s plan` turns into GPU-hours (w2s.pipeline.compute), counted by hand here."""

from __future__ import annotations

import pytest
from snakemake_helpers import tiny_config

from w2s.pipeline.compute import evaluation_share, job_flops
from w2s.pipeline.config import validate_config
from w2s.pipeline.model_shapes import Shape

N = 10**9
SHAPE = Shape(N, N, 2048, 8192, 16, 50000, 256, 512, 0)  # 512 tokens a row


@pytest.fixture
def config():
    config = tiny_config(training={"epochs": 2, "eval_every": 3})
    config["models"]["strongling"].update(batch_size=16, gpus=1)
    return validate_config(config)


def test_a_training_job_counts_6n_a_trained_token_and_2n_an_evaluated_one(config):
    wildcards = {"model": "strongling", "dataset": "toy"}
    # 48 rows, batch 16, 2 epochs: 6 steps, evaluated at step 3 and 6 (the last evaluation is the end's)
    trained, evaluations = 2 * 48 * 512 * 6 * N, 2 * 32 * 512 * 2 * N
    assert job_flops(config, "train_ceiling", wildcards, SHAPE) == trained + evaluations
    # the weak model also labels strong_train (one shard: in its training job)
    labels = 48 * 512 * 2 * N
    assert job_flops(config, "train_weak", wildcards, SHAPE) == pytest.approx(
        trained + evaluations + labels
    )
    config["models"]["strongling"]["gradient_checkpointing"] = (
        True  # the forward again in the backward pass
    )
    assert job_flops(config, "train_ceiling", wildcards, SHAPE) == trained * 8 / 6 + evaluations


def test_a_prediction_job_counts_2n_a_token_of_its_rows(config):
    wildcards = {"model": "strongling", "dataset": "toy"}
    assert job_flops(config, "predict_ceiling_test", wildcards, SHAPE) == 32 * 512 * 2 * N
    assert (
        job_flops(config, "score_zero_shot", wildcards, SHAPE)
        == len(config["seeds"]) * 32 * 512 * 2 * N
    )


def test_the_evaluations_share_of_a_training_job_counts_test_and_validation_passes(config):
    """6 steps evaluated twice on 32 test rows: 64 forward passes a row against 2 x 48 rows trained at three passes'
    worth each; a weak run's own labelling of strong_train is not an evaluation."""
    wildcards = {"model": "strongling", "dataset": "toy"}
    assert evaluation_share(config, "train_ceiling", wildcards) == pytest.approx(64 / (64 + 288))
    assert evaluation_share(config, "train_weak", wildcards) == pytest.approx(64 / (64 + 288))
    config["training"]["eval_every"] = 0  # the end's evaluation only
    assert evaluation_share(config, "train_ceiling", wildcards) == pytest.approx(32 / (32 + 288))


def test_the_plans_note_on_evaluations_lists_datasets_largest_share_first_then_by_name(config):
    """The dry run lists jobs in no fixed order: the note must read the same whatever the order."""
    from w2s.pipeline.dry_run_jobs import Job
    from w2s.pipeline.plan import evaluation_lines

    toy = config["datasets"]["toy"]
    config["datasets"] = {
        "b_toy": {**toy, "n_test": 64},
        "a_toy": {**toy, "n_test": 64},
        "toy": {**toy, "n_test": 128},  # the largest share
    }
    jobs = [
        Job("train_ceiling", {"model": "strongling", "dataset": name}, {"gpu": "1"})
        for name in ("b_toy", "toy", "a_toy")
    ]
    (note,) = evaluation_lines(config, jobs)
    assert "(at most, by dataset: toy 47%, a_toy 31%, b_toy 31%;" in note
    assert evaluation_lines(config, jobs[::-1]) == [note]
