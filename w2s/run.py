"""The jobs behind the rules: finetune a model on a split, predict a split with a trained model (in shards,
merged: the weak labels, and test predictions when they are sharded), and score a model's zero-shot answer.

All write predictions in one format (PREDICTION_COLUMNS), so that the weak labels and every run's test predictions
can be inspected the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import polars as pl
import torch

from w2s.distributed import DeepSpeedEngine, consolidated, init_distributed
from w2s.errors import W2SError
from w2s.io import atomic_path, read_json, write_json, write_parquet
from w2s.launch import run_distributed
from w2s.losses import make_loss
from w2s.metrics import classification_metrics
from w2s.model import Classifier, load_tokenizer
from w2s.predict import predict_p1
from w2s.tokens import encode
from w2s.train import LocalEngine, TrainSettings, seed_everything, train
from w2s.version import checkpoint_sha256, code_version

PREDICTION_COLUMNS = ("id", "text", "label", "soft_label", "hard_label", "correct", "group")


def read_split(path: str | Path, target_column: str) -> pl.DataFrame:
    frame = pl.read_parquet(path)
    missing = [c for c in ("id", "text", target_column) if c not in frame.columns]
    if missing:
        raise W2SError(f"{path}: missing column(s) {missing}; found {frame.columns}")
    return frame


def prediction_table(frame: pl.DataFrame, p1: np.ndarray) -> pl.DataFrame:
    """The predictions file's rows: `frame`'s examples with their p(label = 1) and what follows from it."""
    hard = (p1 > 0.5).astype(np.int8)
    return pl.DataFrame({
        "id": frame["id"], "text": frame["text"], "label": frame["label"].cast(pl.Int8),
        "soft_label": p1, "hard_label": hard, "correct": hard == frame["label"].to_numpy(),
        "group": frame["group"] if "group" in frame.columns else ["all"] * len(frame),
    })


def predictions(model, tokenizer, frame: pl.DataFrame, max_length: int, batch_size: int, autocast: str):
    """The prediction table for `frame` and the number of its texts that were truncated."""
    ids, truncated = encode(frame["text"].to_list(), tokenizer, max_length)
    return prediction_table(frame, predict_p1(model, ids, tokenizer.pad_token_id, batch_size, autocast)), truncated


def run_fingerprint(params: dict, loss_entry: dict, target_column: str, train_path) -> str:
    digest = hashlib.sha256(json.dumps([params, loss_entry, target_column], sort_keys=True, default=str).encode())
    digest.update(Path(train_path).read_bytes())
    return digest.hexdigest()


def finetune_job(**job) -> None:
    """A training rule's job: in this process, or under a DeepSpeed launcher when the model entry asks for it."""
    launch = job["params"].get("deepspeed")
    if launch:
        spec_path = Path(job["out"]["training"]).parent / "launch.json"
        run_distributed(job, spec_path, launch["nodes"], launch["processes_per_node"])
    else:
        finetune(**job)


def finetune(params: dict, train_path, target_column: str, test_path, loss_name: str, loss_entry: dict,
             out: dict, info: dict, threads: int) -> dict | None:
    """Train one run and write its checkpoint, trajectory and training summary to the paths in `out`, and its test
    predictions and metrics where `out` names them (else separate jobs predict the test split in shards).

    Under DeepSpeed every process runs this (each forward pass may need all of them); only rank 0 writes.
    """
    torch.set_num_threads(threads)
    settings = TrainSettings(**params["settings"])
    zero = params.get("deepspeed")
    if zero:
        init_distributed()
    rank = torch.distributed.get_rank() if zero else 0
    seed_everything(settings.seed)
    train_frame, test_frame = read_split(train_path, target_column), read_split(test_path, "label")
    tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
    model = Classifier.load(params["source"], params["dtype"], params["head_init"], params["trust_remote_code"],
                            params.get("label_tokens"))
    max_length = model.max_tokens(params["max_length"])
    train_ids, train_truncated = encode(train_frame["text"].to_list(), tokenizer, max_length)
    test_ids, test_truncated = encode(test_frame["text"].to_list(), tokenizer, max_length)
    print(f"{len(train_ids)} training examples ({train_truncated} truncated to {max_length} tokens), "
          f"{len(test_ids)} test examples ({test_truncated} truncated)", flush=True)
    test_labels = test_frame["label"].to_numpy()
    predict_here = "predictions" in out
    latest = {}

    def evaluate(m) -> dict:
        latest["p1"] = predict_p1(m, test_ids, tokenizer.pad_token_id, params["predict_batch_size"], settings.autocast)
        return {f"test_{k}": v for k, v in classification_metrics(latest["p1"], test_labels).items() if k != "n"}

    targets = torch.tensor(train_frame[target_column].cast(pl.Float32).to_numpy())
    # Resumable state lives beside the outputs (Snakemake removes a failed job's outputs, not this folder); the
    # fingerprint ties it to this run's data and settings so a changed run never resumes a stale state.
    fingerprint = run_fingerprint(params, loss_entry, target_column, train_path)
    make_engine = DeepSpeedEngine.factory(zero["stage"], zero["offload"]) if zero else LocalEngine
    resume_dir = Path(out["training"]).parent / "resume"
    summary = train(model, train_ids, targets, make_loss(loss_name, loss_entry), settings, tokenizer.pad_token_id,
                    evaluate, out["trajectory"] if rank == 0 else None, resume_dir, fingerprint, make_engine,
                    evaluate_at_end=predict_here)

    with consolidated(model, zero["stage"] if zero else 0):
        if rank == 0:
            with atomic_path(out["checkpoint"]) as tmp:
                model.save(tmp, tokenizer)
    if rank != 0:
        return None
    training = {"n_train": len(train_ids), "n_train_truncated": train_truncated, "steps": summary["steps"],
                "train_seconds": round(summary["train_seconds"], 2)}
    write_json(training, out["training"])
    if not predict_here:
        return training
    # The final evaluation predicted the test split with the trained model: those are the run's predictions.
    return write_scored(prediction_table(test_frame, latest["p1"]), out, info, n_test_truncated=test_truncated,
                        **training)


def write_scored(table: pl.DataFrame, out: dict, info: dict, **extra) -> dict:
    """Write a run's test predictions and its metrics.json (info, accuracy, AUROC, n, `extra`); return the metrics."""
    write_parquet(table, out["predictions"], {**info, "code_version": code_version()})
    metrics = {**info, **classification_metrics(table["soft_label"].to_numpy(), table["label"].to_numpy()), **extra,
               "code_version": code_version()}
    write_json(metrics, out["metrics"])
    print(f"{info['role']} test accuracy {metrics['accuracy']:.4f}, AUROC {metrics['auroc']:.4f} on {metrics['n']} "
          "examples", flush=True)
    return metrics


def label_split(checkpoint, split_path, out_path, params: dict, info: dict, threads: int, shard: int = 0,
                shards: int = 1) -> pl.DataFrame:
    """Write a trained model's predictions (the weak model's soft labels, or a run's test predictions) on shard
    `shard` of `shards` of a split (contiguous rows, so that the shards concatenated in order are the whole split),
    with provenance in the parquet metadata."""
    torch.set_num_threads(threads)
    frame = read_split(split_path, "label")
    start, stop = len(frame) * shard // shards, len(frame) * (shard + 1) // shards
    frame = frame.slice(start, stop - start)
    tokenizer = load_tokenizer(str(checkpoint))
    model = Classifier.load(str(checkpoint), params["dtype"])
    table, truncated = predictions(model, tokenizer, frame, model.max_tokens(params["max_length"]),
                                   params["predict_batch_size"], params["settings"]["autocast"])
    metadata = {**info, "checkpoint_sha256": checkpoint_sha256(checkpoint), "code_version": code_version(),
                "n_truncated": truncated}
    write_parquet(table, out_path, metadata)
    print(f"predicted rows {start}-{stop} of {split_path} (shard {shard + 1} of {shards}); "
          f"accuracy against ground truth {table['correct'].mean():.4f}", flush=True)
    return table


def merge_shards(shard_paths: list) -> tuple[pl.DataFrame, dict]:
    """Prediction shards (from `label_split`) concatenated in order, and their metadata (truncations summed)."""
    metadata = [pl.read_parquet_metadata(path) for path in shard_paths]
    if len({m["checkpoint_sha256"] for m in metadata}) != 1:
        raise W2SError(f"shards {shard_paths} come from different checkpoints; rerun the jobs that wrote them")
    table = pl.concat([pl.read_parquet(path) for path in shard_paths])
    merged = {k: v for k, v in metadata[0].items() if not k.startswith("ARROW")}
    merged["n_truncated"] = sum(int(m["n_truncated"]) for m in metadata)
    print(f"merged {len(shard_paths)} shards: {len(table)} rows", flush=True)
    return table, merged


def merge_label_shards(shard_paths: list, out_path) -> pl.DataFrame:
    """Label shards in order as one labels file, with the shards' provenance."""
    table, metadata = merge_shards(shard_paths)
    write_parquet(table, out_path, metadata)
    return table


def score_run(shard_paths: list, training_path, out: dict, info: dict) -> dict:
    """A run whose test predictions were made in shards: merge them, and write its predictions and metrics as a
    training job that predicts itself would."""
    table, metadata = merge_shards(shard_paths)
    return write_scored(table, out, info, n_test_truncated=int(metadata["n_truncated"]), **read_json(training_path))


def zero_shot(params: dict, test_path, out: dict, info: dict, threads: int) -> dict:
    """Score a model's own answer (its label tokens' logits at the last token) on the test split, untrained."""
    torch.set_num_threads(threads)
    frame = read_split(test_path, "label")
    tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
    model = Classifier.load(params["source"], params["dtype"], "readout", params["trust_remote_code"],
                            params["label_tokens"])
    table, truncated = predictions(model, tokenizer, frame, model.max_tokens(params["max_length"]),
                                   params["predict_batch_size"], params["settings"]["autocast"])
    return write_scored(table, out, info, n_test_truncated=truncated)
