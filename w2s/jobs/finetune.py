"""The training job behind rules train_weak, train_ceiling, train_student and train_chain: finetune one model (or a
linear probe) on a split, in three steps: prepare (read the data, load the model, tie the run to a fingerprint),
train (the one loop, w2s.training.loop), write (checkpoint, labels, training summary, early stops, test
predictions and metrics, in the format of w2s.records.predictions).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import torch

from w2s.analysis.early_stops import early_stops
from w2s.errors import W2SError
from w2s.io import atomic_path, write_json
from w2s.jobs.kept_early_stop import KeptEarlyStop
from w2s.jobs.probe_run import ProbeRun
from w2s.jobs.run import write_labels
from w2s.kinds import of_params
from w2s.kinds.classification import Evaluation, FinetuneRun
from w2s.models.paths import model_parameters, source_identity
from w2s.records.params import TrainingParams
from w2s.records.predictions import (
    check_provenance,
    read_split,
    write_scored,
)
from w2s.training.dashboards import dashboards
from w2s.training.distributed import DeepSpeedEngine, checkpoint_state, init_distributed
from w2s.training.ground_truth import OPTION as GROUND_TRUTH
from w2s.training.ground_truth import with_ground_truth
from w2s.training.loop import LocalEngine, train
from w2s.training.losses import make_loss
from w2s.training.misfit import kl_misfit
from w2s.training.predict import predict_p1
from w2s.training.runtime import seed_everything, use_threads
from w2s.training.settings import Diverged, TrainSettings
from w2s.version import record_checkpoint_sha256


@dataclass
class FinetuneJob:
    """What a training job runs: the rule's params (`params`: the model's training params, w2s.pipeline.
    rule_params.training_params; the rest: finetune_params), its input and output files, and the settings read
    from the config outside the params (`progress`, `logging`, `gradient_checkpointing`: how the run reports,
    saves progress and spends memory, not its result). The fields are the script's JSON keyword arguments.

    `out` names the run's files: checkpoint, trajectory, training; the test predictions and metrics where the job
    predicts the test split itself (else test-shard jobs do); `labels` where a weak run labels `label_split_path`
    (labelling unsharded), as a labelling job would from the checkpoint; early_stopping (and early_stop_weak_val)
    where the run stops early by `early_stopping`, which measures each evaluation's agreement with the run's
    supervision on `validation_path`. A student's labels file must record its `supervision`. With
    `params.mode` "probe" the run trains a linear probe on the backbone's cached `activations` of each split.
    """

    params: TrainingParams  # given as its serialised form, a dict, by the job's script
    train_path: str
    target_column: str
    test_path: str
    loss_name: str
    loss_entry: dict
    out: dict
    info: dict
    threads: int
    progress: dict | None = None
    label_split_path: str | None = None
    label_info: dict | None = None
    early_stopping: str | None = None
    validation_path: str | None = None
    supervision: dict | None = None
    activations: dict | None = None
    gradient_checkpointing: bool = False
    logging: dict | None = None

    def __post_init__(self):
        self.params = TrainingParams.from_dict(self.params)

    @property
    def zero(self) -> dict | None:
        return self.params.deepspeed

    @property
    def zero_stage(self) -> int:
        return self.zero["stage"] if self.zero else 0

    @property
    def run_dir(self) -> Path:
        return Path(self.out["training"]).parent


def run_fingerprint(
    params: TrainingParams,
    loss_entry: dict,
    target_column: str,
    early_stopping: str | None,
    data_paths: dict,
) -> str:
    """What a resumable state must match to be resumed: the run's settings, loss and early stopping, every file its
    history was computed from (`data_paths`: the training data, and the test and validation splits its evaluations
    scored) and the contents of the model it starts from."""
    settings = [
        params.to_dict(),
        loss_entry,
        target_column,
        early_stopping or "none",
        sorted(data_paths),
    ]
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(data_paths):
        digest.update(Path(data_paths[name]).read_bytes())
    digest.update(source_identity(params.source).encode())
    return digest.hexdigest()


@dataclass
class Prepared:
    kind: object  # the task kind (w2s.kinds)
    settings: TrainSettings
    rank: int
    frames: dict
    model: FinetuneRun | ProbeRun  # an AnswerRun is a FinetuneRun
    fingerprint: str
    evaluation: Evaluation  # or its kind's subclass
    loss: object
    n_train_dropped: int | None  # rows the loss chose not to learn from


def validation_set(path, supervision: dict | None, kind) -> tuple[pl.DataFrame, np.ndarray]:
    """The validation split (a run on ground truth), or the labels of it by the model that supervises a student
    (checked to be that model's, as its training labels are), and the run's own supervision on it: ground truth,
    or its supervisor's (the kind's validation column)."""
    if supervision:
        check_provenance(path, {**supervision, "split": "validation"})
    column = kind.validation_column(bool(supervision))
    frame = read_split(path, column)
    return frame, frame[column].to_numpy()


def prepare(job: FinetuneJob) -> Prepared:
    """Read the splits (checking a student's labels are its supervision), load the model, and tie the run's
    resumable state to a fingerprint of its data and settings."""
    use_threads(job.threads)
    settings = TrainSettings(**job.params.settings, **(job.progress or {}))
    if job.zero:
        init_distributed()
    rank = torch.distributed.get_rank() if job.zero else 0
    seed_everything(settings.seed)
    kind = of_params(job.params)
    if job.supervision:
        check_provenance(job.train_path, job.supervision)
    frames = {"train": read_split(job.train_path, job.target_column)}
    if job.supervision and job.loss_entry.get(GROUND_TRUTH):
        frames["train"] = with_ground_truth(
            frames["train"], job.target_column, job.loss_entry[GROUND_TRUTH], settings.seed
        )
    frames["test"] = read_split(job.test_path, "label")
    if job.label_split_path:
        frames["label"] = read_split(job.label_split_path, "label")
    validation_targets = None
    if job.validation_path:
        frames["validation"], validation_targets = validation_set(
            job.validation_path, job.supervision, kind
        )
    probe = job.params.probe
    if probe:
        model = ProbeRun(job.params, job.activations, frames)
    else:
        model = kind.training_run(job.params, frames, job.target_column, job.gradient_checkpointing)
    loss = make_loss(job.loss_name, job.loss_entry)
    dropped = choose_training_rows(loss, frames, model, job.target_column)
    (n_train, train_cut), (n_test, test_cut) = (
        (len(model.ids[s][0]), model.ids[s][1]) for s in ("train", "test")
    )
    print(
        f"model {job.params.source}{' (linear probe)' if probe else ''}: {n_train} training examples "
        f"({train_cut} truncated to {model.max_length} tokens), {n_test} test examples ({test_cut} truncated)",
        flush=True,
    )
    evaluated = {"train": job.train_path, "test": job.test_path}
    if job.validation_path:
        evaluated["validation"] = job.validation_path
    fingerprint = run_fingerprint(
        job.params, job.loss_entry, job.target_column, job.early_stopping, evaluated
    )
    kept = None
    if job.early_stopping == "weak_val":
        kept = KeptEarlyStop(
            job.out["early_stop_weak_val"], fingerprint, model, rank, job.zero_stage
        )
    evaluation = kind.evaluation(
        job.params.predict_batch_size, model, frames, settings, kept, validation_targets
    )
    return Prepared(kind, settings, rank, frames, model, fingerprint, evaluation, loss, dropped)


def choose_training_rows(loss, frames: dict, model, target_column: str) -> int | None:
    """The rows the run learns from, where its loss chooses them (`keep`): the others leave the training split
    (and its token ids) before training. Returns how many were dropped (None: the loss keeps all)."""
    kept = loss.keep(frames["train"][target_column].to_numpy())
    if kept is None:
        return None
    rows = np.flatnonzero(kept)
    model.keep_rows(rows)
    frames["train"] = frames["train"][rows.tolist()]
    print(f"loss: learns from {len(rows)} of {len(kept)} training rows", flush=True)
    return len(kept) - len(rows)


def train_run(job: FinetuneJob, run: Prepared) -> dict:
    """The training loop over the prepared run, resuming from `<run>/resume` where a state of its fingerprint is."""
    targets = torch.tensor(
        run.kind.targets(run.frames["train"], job.target_column).astype(np.float32)
    )
    make_engine = (
        DeepSpeedEngine.factory(job.zero["stage"], job.zero["offload"]) if job.zero else LocalEngine
    )
    # named by the run's folder, relative to the workflow's: results/student/<dataset>/seed<s>/<weak>/<strong>/<loss>
    mirrors = []
    if run.rank == 0:
        mirrors = dashboards(
            job.logging,
            job.run_dir,
            job.run_dir.as_posix(),
            {**job.params.to_dict(), "loss": job.loss_entry},
        )
    try:
        return train(
            run.model.module,
            run.model.ids["train"][0],
            targets,
            run.loss,
            run.settings,
            run.model.pad_id,
            run.evaluation,
            job.out["trajectory"] if run.rank == 0 else None,
            job.run_dir / "resume",
            run.fingerprint,
            make_engine,
            evaluate_at_end="predictions" in job.out or bool(job.early_stopping),
            mirrors=mirrors,
            answer_lengths=run.model.answer_lengths,
        )
    except Diverged as exc:
        raise W2SError(f"run {job.run_dir}: {exc}") from None


def student_misfit(job: FinetuneJob, run: Prepared) -> float:
    """The trained student's misfit to what it was taught on its training rows (w2s.training.misfit); every
    process takes part in predicting them."""
    ids, _ = run.model.ids["train"]
    p1 = predict_p1(
        run.model.module,
        ids,
        run.model.pad_id,
        job.params.predict_batch_size,
        run.settings.autocast,
        run.model.answer_lengths,
    )
    targets = run.kind.targets(run.frames["train"], job.target_column)
    misfit = kl_misfit(p1, targets)
    print(
        f"misfit to its supervision on its {len(ids)} training rows: {misfit:.4f} nats", flush=True
    )
    return misfit


def write_outputs(job: FinetuneJob, run: Prepared, summary: dict) -> dict | None:
    """The checkpoint, the weak labels (a weak run, unsharded), the training summary, the early stops, and the
    test predictions and metrics where the job predicts the test split. Every process takes part in gathering
    weights and predicting the labels; rank 0 writes."""
    module = run.model.module
    if "labels" in job.out:
        labels = run.evaluation.table("label", run.frames["label"], module)
        label_truncated = run.model.ids["label"][1]
    misfit = student_misfit(job, run) if job.supervision else None
    state = checkpoint_state(module, job.zero_stage, run.rank)
    if run.rank != 0:
        return None
    with atomic_path(job.out["checkpoint"]) as tmp:
        run.model.save(tmp, state)
        record_checkpoint_sha256(tmp)
    if "labels" in job.out:
        write_labels(
            labels, label_truncated, job.out["checkpoint"], job.out["labels"], job.label_info
        )
    n_train, n_train_truncated = len(run.model.ids["train"][0]), run.model.ids["train"][1]
    training = {
        "n_train": n_train,
        "n_train_truncated": n_train_truncated,
        "steps": summary["steps"],
        "train_seconds": round(summary["train_seconds"], 2),
        "n_params": model_parameters(job.out["checkpoint"]),  # the scaling view's default size
    }
    if run.n_train_dropped is not None:
        training["n_train_dropped"] = run.n_train_dropped
    if misfit is not None:
        training["misfit"] = misfit
    write_json(training, job.out["training"])
    if job.early_stopping:
        lines = Path(job.out["trajectory"]).read_text().splitlines()
        n_test = len(run.model.ids["test"][0])
        stops = early_stops(
            [json.loads(line) for line in lines], job.early_stopping, job.info, n_test
        )
        write_json(stops, job.out["early_stopping"])
        if run.evaluation.kept:
            chosen = next(stop for stop in stops if stop["early_stopping"] == "weak_val")
            run.evaluation.kept.finish(chosen)
    if "predictions" not in job.out:
        return training
    # The final evaluation predicted the test split with the trained model: those are the run's predictions.
    table = run.evaluation.test_table
    n_test_truncated = run.model.ids["test"][1]
    return write_scored(table, job.out, job.info, n_test_truncated=n_test_truncated, **training)


def finetune(**job) -> dict | None:
    """Train one run and write its outputs (FinetuneJob says which). Under DeepSpeed every process runs this (each
    forward pass may need all of them); only rank 0 writes."""
    job = FinetuneJob(**job)
    run = prepare(job)
    summary = train_run(job, run)
    return write_outputs(job, run, summary)
