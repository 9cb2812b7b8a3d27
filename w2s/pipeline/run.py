"""The model jobs behind the rules: finetune a model on a split, predict a split with a trained model (one shard of
the weak labels, or of a run's test predictions), and score a model's zero-shot answer. They write predictions in
the format of `w2s.analysis.predictions`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import torch
from safetensors.torch import save_file

from w2s.analysis.early_stopping import early_stops
from w2s.analysis.metrics import accuracy, classification_metrics
from w2s.analysis.predictions import check_provenance, prediction_table, read_split, write_scored
from w2s.analysis.trajectories import pack_answers
from w2s.errors import W2SError
from w2s.io import atomic_path, write_json, write_parquet
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.paths import local_model_dir, model_parameters, source_identity
from w2s.models.probe import FEATURES, LinearProbe, read_activations, truncated_texts
from w2s.models.recompute import recompute_layers
from w2s.models.tokens import encode
from w2s.pipeline.launch import relaunched
from w2s.training.dashboards import dashboards
from w2s.training.distributed import (
    DeepSpeedEngine,
    checkpoint_state,
    inference_module,
    init_distributed,
)
from w2s.training.loop import LocalEngine, train
from w2s.training.losses import make_loss
from w2s.training.predict import last_token_features, predict_p1
from w2s.training.runtime import seed_everything
from w2s.training.settings import Diverged, TrainSettings
from w2s.version import checkpoint_sha256, code_version


def predictions(
    model, tokenizer, frame: pl.DataFrame, max_length: int, batch_size: int, autocast: str
):
    """The prediction table for `frame` and the number of its texts that were truncated."""
    ids, truncated = encode(frame["text"].to_list(), tokenizer, max_length)
    return prediction_table(
        frame, predict_p1(model, ids, tokenizer.pad_token_id, batch_size, autocast)
    ), truncated


def run_fingerprint(
    params: dict, loss_entry: dict, target_column: str, early_stopping: str | None, data_paths: dict
) -> str:
    """What a resumable state must match to be resumed: the run's settings, loss and early stopping, every file its
    history was computed from (`data_paths`: the training data, and the test and validation splits its evaluations
    scored) and the contents of the model it starts from."""
    settings = [params, loss_entry, target_column, early_stopping or "none", sorted(data_paths)]
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for name in sorted(data_paths):
        digest.update(Path(data_paths[name]).read_bytes())
    digest.update(source_identity(params["source"]).encode())
    return digest.hexdigest()


def finetune(
    params: dict,
    train_path,
    target_column: str,
    test_path,
    loss_name: str,
    loss_entry: dict,
    out: dict,
    info: dict,
    threads: int,
    progress: dict | None = None,
    label_split_path=None,
    label_info: dict | None = None,
    early_stopping: str | None = None,
    validation_path=None,
    supervision: dict | None = None,
    activations: dict | None = None,
    gradient_checkpointing: bool = False,
    logging: dict | None = None,
) -> dict | None:
    """Train one run and write its checkpoint, trajectory and training summary to the paths in `out`, and its test
    predictions and metrics where `out` names them (else separate jobs predict the test split in shards). Where
    `out` names labels (a weak run, labelling unsharded), the trained model also labels `label_split_path`, as a
    labelling job would from the checkpoint (the same weights and batches: the same labels).
    `progress` (log_every, checkpoint_every) changes how the run reports and saves progress, not its result: it is
    kept out of the fingerprint, so a run resumes after it changed. With `early_stopping` every evaluation also
    measures the run's agreement with its supervision on `validation_path` (weak_val: the validation split, or for a
    student the weak model's labels of it), and the evaluations each method picks go to `out["early_stopping"]`.
    A student's labels file must record the `supervision` it is meant to be (dataset, seed, labelling model, split).
    `gradient_checkpointing` recomputes the backbone's activations in the backward pass (w2s.models.recompute).
    `logging` (the config's) names the dashboards rank 0 mirrors the trajectory to (w2s.training.dashboards).
    With `params["mode"]` "probe" the run trains a linear probe on the backbone's cached `activations` of each
    split (train, test, label, validation: the files of rule extract_activations) and never loads the backbone.

    Under DeepSpeed every process runs this (each forward pass may need all of them); only rank 0 writes.
    """
    torch.set_num_threads(threads)
    settings = TrainSettings(**params["settings"], **(progress or {}))
    zero = params.get("deepspeed")
    if zero:
        init_distributed()
    rank = torch.distributed.get_rank() if zero else 0
    seed_everything(settings.seed)
    if supervision:
        check_provenance(train_path, supervision)
    train_frame, test_frame = read_split(train_path, target_column), read_split(test_path, "label")
    frames = {"train": train_frame, "test": test_frame}
    if label_split_path:
        frames["label"] = read_split(label_split_path, "label")
    if validation_path:
        frames["validation"], validation_targets = validation_set(validation_path, supervision)
    model = (
        ProbeRun(params, activations, frames)
        if params.get("mode") == "probe"
        else FinetuneRun(params, frames, gradient_checkpointing)
    )
    (train_ids, train_truncated), (test_ids, test_truncated) = model.ids["train"], model.ids["test"]
    print(
        f"model {params['source']}{' (linear probe)' if params.get('mode') == 'probe' else ''}: {len(train_ids)} "
        f"training examples ({train_truncated} truncated to {model.max_length} tokens), {len(test_ids)} test "
        f"examples ({test_truncated} truncated)",
        flush=True,
    )
    test_labels = test_frame["label"].to_numpy()
    predict_here = "predictions" in out
    latest = {}
    # Resumable state lives beside the outputs (Snakemake removes a failed job's outputs, not this folder); the
    # fingerprint ties it to this run's data and settings so a changed run never resumes a stale state.
    evaluated = {
        "train": train_path,
        "test": test_path,
        **({"validation": validation_path} if validation_path else {}),
    }
    fingerprint = run_fingerprint(params, loss_entry, target_column, early_stopping, evaluated)
    kept = (
        KeptEarlyStop(
            out["early_stop_weak_val"], fingerprint, model, rank, zero["stage"] if zero else 0
        )
        if early_stopping == "weak_val"
        else None
    )

    def evaluate(m) -> dict:
        latest["p1"] = predict_p1(
            m, test_ids, model.pad_id, params["predict_batch_size"], settings.autocast
        )
        result = {
            f"test_{k}": v
            for k, v in classification_metrics(latest["p1"], test_labels).items()
            if k != "n"
        }
        # the answers themselves, so that the trajectories analysis can compare them with any other model's
        result["test_answers"] = pack_answers(latest["p1"])
        if validation_path:
            val_p1 = predict_p1(
                m,
                model.ids["validation"][0],
                model.pad_id,
                params["predict_batch_size"],
                settings.autocast,
            )
            result["val_agreement"] = accuracy(val_p1, validation_targets)
            if kept:
                kept.offer(result, lambda: prediction_table(test_frame, latest["p1"]))
        return result

    targets = torch.tensor(train_frame[target_column].cast(pl.Float32).to_numpy())
    make_engine = DeepSpeedEngine.factory(zero["stage"], zero["offload"]) if zero else LocalEngine
    run_dir = Path(out["training"]).parent
    resume_dir = run_dir / "resume"
    # named by the run's folder, relative to the workflow's: results/student/<dataset>/seed<s>/<weak>/<strong>/<loss>
    mirrors = (
        dashboards(logging, run_dir, run_dir.as_posix(), {**params, "loss": loss_entry})
        if rank == 0
        else []
    )
    try:
        summary = train(
            model.module,
            train_ids,
            targets,
            make_loss(loss_name, loss_entry),
            settings,
            model.pad_id,
            evaluate,
            out["trajectory"] if rank == 0 else None,
            resume_dir,
            fingerprint,
            make_engine,
            evaluate_at_end=predict_here or bool(early_stopping),
            mirrors=mirrors,
        )
    except Diverged as exc:
        raise W2SError(f"run {resume_dir.parent}: {exc}") from None

    if "labels" in out:  # every process takes part in predicting
        label_ids, label_truncated = model.ids["label"]
        p1 = predict_p1(
            model.module, label_ids, model.pad_id, params["predict_batch_size"], settings.autocast
        )
        labels = prediction_table(frames["label"], p1), label_truncated
    state = checkpoint_state(model.module, zero["stage"] if zero else 0, rank)
    if rank == 0:
        with atomic_path(out["checkpoint"]) as tmp:
            model.save(tmp, state)
    if rank != 0:
        return None
    if "labels" in out:
        write_labels(*labels, out["checkpoint"], out["labels"], label_info)
    training = {
        "n_train": len(train_ids),
        "n_train_truncated": train_truncated,
        "steps": summary["steps"],
        "train_seconds": round(summary["train_seconds"], 2),
        "n_params": model_parameters(out["checkpoint"]),
    }  # the scaling view's default size
    write_json(training, out["training"])
    if early_stopping:
        trajectory = [json.loads(line) for line in Path(out["trajectory"]).read_text().splitlines()]
        stops = early_stops(trajectory, early_stopping, info, len(test_ids))
        write_json(stops, out["early_stopping"])
        if kept:
            kept.finish(next(stop for stop in stops if stop["early_stopping"] == "weak_val"))
    if not predict_here:
        return training
    # The final evaluation predicted the test split with the trained model: those are the run's predictions.
    return write_scored(
        prediction_table(test_frame, latest["p1"]),
        out,
        info,
        n_test_truncated=test_truncated,
        **training,
    )


class KeptEarlyStop:
    """The weak_val early stop kept as a model: at each evaluation that agrees better with the run's supervision on
    the validation split than every one before (the first of equals, as `early_stops` picks), the model
    (`checkpoint/`) and its test predictions are written to `<folder>.partial` with the run's fingerprint. That
    folder survives a kill, is taken up by a resumed run of the same fingerprint only, and becomes `folder` when the
    run ends. Under ZeRO-3 every process takes part in gathering the weights; rank 0 writes."""

    def __init__(self, folder, fingerprint: str, run, rank: int, zero_stage: int):
        self.folder, self.partial = Path(folder), Path(f"{folder}.partial")
        self.fingerprint, self.run, self.rank, self.zero_stage = fingerprint, run, rank, zero_stage
        record = self.partial / "agreement.json"
        saved = json.loads(record.read_text()) if record.exists() else {}
        # read once, before training, by every process: their decisions to gather weights must agree
        self.best = saved.get("val_agreement") if saved.get("fingerprint") == fingerprint else None

    def offer(self, result: dict, test_table) -> None:
        if self.best is not None and result["val_agreement"] <= self.best:
            return
        self.best = result["val_agreement"]
        state = checkpoint_state(self.run.module, self.zero_stage, self.rank)
        if self.rank == 0:
            with atomic_path(self.partial) as tmp:
                tmp.mkdir()
                self.run.save(tmp / "checkpoint", state)
                write_parquet(test_table(), tmp / "test_predictions.parquet")
                write_json(
                    {
                        "fingerprint": self.fingerprint,
                        "val_agreement": result["val_agreement"],
                        "test_accuracy": result["test_accuracy"],
                    },
                    tmp / "agreement.json",
                )

    def finish(self, chosen: dict) -> None:
        saved = json.loads((self.partial / "agreement.json").read_text())
        if (saved["val_agreement"], saved["test_accuracy"]) != (
            chosen["val_agreement"],
            chosen["accuracy"],
        ):
            raise W2SError(
                f"{self.partial} holds the model of another evaluation than the weak_val early stop the "
                f"trajectory gives (step {chosen['step']}); delete it and rerun"
            )
        with atomic_path(self.folder) as tmp:
            os.replace(self.partial, tmp)


class FinetuneRun:
    """A run that finetunes the whole classifier: each split's token ids (and how many were truncated)."""

    def __init__(
        self, params: dict, frames: dict[str, pl.DataFrame], gradient_checkpointing: bool = False
    ):
        self.tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
        self.module = Classifier.load(
            params["source"],
            params["dtype"],
            params["head_init"],
            params["trust_remote_code"],
            params.get("label_tokens"),
        )
        if params.get("lora"):
            trainable = self.module.add_lora(params["lora"], params["source"])
            total = sum(p.numel() for p in self.module.parameters())
            print(
                f"LoRA: {trainable:,} of {total:,} parameters train (adapters and head)", flush=True
            )
        if gradient_checkpointing:
            print(
                f"gradient checkpointing: {recompute_layers(self.module.backbone)} layers recomputed in the "
                "backward pass",
                flush=True,
            )
        self.max_length = self.module.max_tokens(params["max_length"])
        self.pad_id = self.tokenizer.pad_token_id
        self.ids = {
            name: encode(frame["text"].to_list(), self.tokenizer, self.max_length)
            for name, frame in frames.items()
        }

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, self.tokenizer, state)


class ProbeRun:
    """A run that trains a linear probe on the backbone's cached activations of each split (w2s.models.probe)."""

    def __init__(self, params: dict, activations: dict, frames: dict[str, pl.DataFrame]):
        self.source, self.max_length, self.pad_id = params["source"], params["max_length"], 0
        files = {name: activations[name] for name in frames}
        self.module = LinearProbe(
            {name: read_activations(files[name], len(frames[name])) for name in frames},
            params["head_init"],
        )
        self.ids = {name: (self.module.ids(name), truncated_texts(files[name])) for name in frames}

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, local_model_dir(self.source), state)


def validation_set(path, supervision: dict | None) -> tuple[pl.DataFrame, np.ndarray]:
    """The validation split (a run on ground truth), or the labels of it by the model that supervises a student
    (checked to be that model's, as its training labels are), and the run's own supervision on it: ground truth,
    or its supervisor's hard labels."""
    if supervision:
        check_provenance(path, {**supervision, "split": "validation"})
    column = "hard_label" if supervision else "label"
    frame = read_split(path, column)
    return frame, frame[column].to_numpy()


def extract_activations(params: dict, split_path, out_path, threads: int) -> None:
    """A backbone's last-token activations of a split's examples, in row order, for linear probes (safetensors,
    with the number of truncated texts in its metadata)."""
    torch.set_num_threads(threads)
    frame = read_split(split_path, "label")
    tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
    model = Classifier.load(
        params["source"], params["dtype"], trust_remote_code=params["trust_remote_code"]
    )
    ids, truncated = encode(
        frame["text"].to_list(), tokenizer, model.max_tokens(params["max_length"])
    )
    features = last_token_features(
        model, ids, tokenizer.pad_token_id, params["predict_batch_size"], params["autocast"]
    )
    with atomic_path(out_path) as tmp:
        save_file(
            {FEATURES: features.contiguous()},
            tmp,
            metadata={"n_truncated": str(truncated), "source": params["source"]},
        )
    print(
        f"activations of {len(frame)} rows of {split_path} ({features.shape[1]} wide, {truncated} truncated) from "
        f"{params['source']}",
        flush=True,
    )


def label_split(
    checkpoint,
    split_path,
    out_path,
    params: dict,
    info: dict,
    threads: int,
    shard: int = 0,
    shards: int = 1,
) -> pl.DataFrame | None:
    """Write a trained model's predictions (the weak model's soft labels, or a run's test predictions) on shard
    `shard` of `shards` of a split (contiguous rows, so that the shards concatenated in order are the whole split),
    with provenance in the parquet metadata. A model entry with DeepSpeed predicts in the processes of its launcher
    (`prediction_model`), and rank 0 writes."""
    if relaunched(
        "w2s.pipeline.run:label_split", dict(locals()), f"{out_path}.launch.json", params
    ):
        return None
    torch.set_num_threads(threads)
    rank = join_processes(params)
    frame = read_split(split_path, "label")
    start, stop, total = (
        len(frame) * shard // shards,
        len(frame) * (shard + 1) // shards,
        len(frame),
    )
    frame = frame.slice(start, stop - start)
    tokenizer = load_tokenizer(str(checkpoint), params["trust_remote_code"])
    model = Classifier.load(
        str(checkpoint), params["dtype"], trust_remote_code=params["trust_remote_code"]
    )
    table, truncated = predictions(
        prediction_model(model, params),
        tokenizer,
        frame,
        model.max_tokens(params["max_length"]),
        params["predict_batch_size"],
        params["autocast"],
    )
    if rank != 0:
        return None
    # The shard's place in the split, so that the merge can check that the shards cover it exactly.
    write_labels(
        table,
        truncated,
        checkpoint,
        out_path,
        {**info, "row_start": start, "row_stop": stop, "split_rows": total},
    )
    print(
        f"predicted rows {start}-{stop} of {split_path} (shard {shard + 1} of {shards})", flush=True
    )
    return table


def join_processes(params: dict) -> int:
    """This process's rank: in a job launched for a DeepSpeed model entry, after joining the others; else 0."""
    if not params.get("deepspeed"):
        return 0
    init_distributed()
    return torch.distributed.get_rank()


def prediction_model(model: Classifier, params: dict) -> torch.nn.Module:
    """The model a prediction job runs: under a model entry's ZeRO-3, partitioned over the launched processes."""
    launch = params.get("deepspeed")
    return inference_module(model, launch["stage"]) if launch else model


def write_labels(table: pl.DataFrame, truncated: int, checkpoint, out_path, info: dict) -> None:
    """A predictions file with its provenance: which checkpoint made it, with which code."""
    metadata = {
        **info,
        "checkpoint_sha256": checkpoint_sha256(checkpoint),
        "code_version": code_version(),
        "n_truncated": truncated,
    }
    write_parquet(table, out_path, metadata)
    print(
        f"wrote {out_path}: {len(table)} rows, accuracy against ground truth {table['correct'].mean():.4f}",
        flush=True,
    )


def zero_shot(
    params: dict, test_paths: list, outs: list[dict], infos: list[dict], threads: int
) -> list[dict] | None:
    """Score a model's own answer (its label tokens' logits at the last token), untrained, on test splits (one per
    seed: the model is loaded once for all); in the launcher's processes for a DeepSpeed model entry."""
    if relaunched(
        "w2s.pipeline.run:zero_shot", dict(locals()), f"{outs[0]['metrics']}.launch.json", params
    ):
        return None
    torch.set_num_threads(threads)
    rank = join_processes(params)
    tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
    model = Classifier.load(
        params["source"],
        params["dtype"],
        "readout",
        params["trust_remote_code"],
        params["label_tokens"],
    )
    predicting = prediction_model(model, params)
    scored = []
    for test_path, out, info in zip(test_paths, outs, infos, strict=True):
        table, truncated = predictions(
            predicting,
            tokenizer,
            read_split(test_path, "label"),
            model.max_tokens(params["max_length"]),
            params["predict_batch_size"],
            params["autocast"],
        )
        if rank == 0:
            scored.append(write_scored(table, out, info, n_test_truncated=truncated))
    return scored if rank == 0 else None
