"""Held-out labels for a bootstrapping chain's next link, by cross-fitting: strong_train is cut into `folds` seeded
parts; for each, the link's model is trained again, with the link's own recipe and supervision, on the other parts,
and labels the part it never saw. A link's own student, trained on all of strong_train, would label its training
split in-sample, where it fits its supervisor's labels, errors included, and passes them on (the paper draws a fresh
set per bootstrapping step; cross-fitting keeps every split the size it is).

Each fold is an ordinary finetuning run in `<labels without .parquet>.folds/<k>-of-<folds>/` (its training file,
trajectory, training summary and labels of the held-out part); its checkpoint is deleted once the labels are merged.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import polars as pl
import torch
from safetensors.torch import save_file

from w2s.errors import W2SError
from w2s.io import read_parquet_metadata, write_parquet
from w2s.kinds import of_params
from w2s.models.probe import FEATURES, read_activations, truncated_texts
from w2s.process.launch import finetune_job
from w2s.records.params import TrainingParams
from w2s.records.predictions import check_provenance, move_stats, read_split
from w2s.version import checkpoint_sha256, code_version


def fold_of_rows(n_rows: int, folds: int, seed: int) -> list[int]:
    """Each row's fold: a seeded permutation dealt round-robin, so folds differ in size by one row at most."""
    if not 2 <= folds <= n_rows:
        raise W2SError(
            f"chain_folds {folds}: cross-fitting needs between 2 and {n_rows} folds (the rows of "
            "strong_train); 1 labels in-sample"
        )
    order = list(range(n_rows))
    random.Random(f"crossfit:{seed}").shuffle(order)
    fold = [0] * n_rows
    for position, row in enumerate(order):
        fold[row] = position % folds
    return fold


def subset_activations(path, rows: list[int], n_rows: int, out_path) -> str:
    """A linear probe's activations of some rows of a split, in their order."""
    features = read_activations(path, n_rows)[torch.tensor(rows)]
    save_file(
        {FEATURES: features.contiguous()},
        out_path,
        metadata={"n_truncated": str(truncated_texts(path))},
    )
    return str(out_path)


def crossfit_labels(
    params: dict,
    labels_path,
    split_path,
    test_path,
    loss_name: str,
    loss_entry: dict,
    supervision: dict,
    folds: int,
    out_path,
    info: dict,
    threads: int,
    activations: dict | None = None,
    **untracked,
) -> pl.DataFrame:
    """The held-out labels of strong_train (`split_path`) by the link whose run trained on `labels_path` (its
        supervisor's labels of strong_train, checked against `supervision`), written to `out_path` in strong_train's
        row order with `info` as provenance. `activations` (a linear probe's) are its backbone's of strong_train
    (`split`) and of the test split (`test`); `untracked` are the training job's progress and memory settings."""
    params = TrainingParams.from_dict(params)
    check_provenance(labels_path, supervision)
    target = of_params(params).labels_column
    labels, split = read_split(labels_path, target), read_split(split_path, "label")
    if labels["id"].to_list() != split["id"].to_list():
        raise W2SError(
            f"{labels_path} does not label the rows of {split_path} in their order; delete it and rerun"
        )
    fold = fold_of_rows(split.height, folds, params.settings["seed"])
    metadata = read_parquet_metadata(labels_path)
    folds_dir = Path(out_path).with_suffix(".folds")
    parts, checkpoints, truncated = [], [], 0
    for k in range(folds):
        run_dir = folds_dir / f"{k}-of-{folds}"
        run_dir.mkdir(parents=True, exist_ok=True)
        train_rows = [row for row in range(split.height) if fold[row] != k]
        held_rows = [row for row in range(split.height) if fold[row] == k]
        write_parquet(
            labels[train_rows],
            run_dir / "train.parquet",
            {k2: v for k2, v in metadata.items() if not k2.startswith("ARROW")},
        )
        write_parquet(split[held_rows], run_dir / "heldout.parquet")
        fold_activations = None
        if activations:  # a linear probe reads its backbone's activations of exactly these rows
            fold_activations = {
                "train": subset_activations(
                    activations["split"], train_rows, split.height, run_dir / "train.safetensors"
                ),
                "label": subset_activations(
                    activations["split"], held_rows, split.height, run_dir / "heldout.safetensors"
                ),
                "test": activations["test"],
            }
        out = {
            "checkpoint": str(run_dir / "checkpoint"),
            "trajectory": str(run_dir / "trajectory.jsonl"),
            "training": str(run_dir / "training.json"),
            "labels": str(run_dir / "labels.parquet"),
        }
        print(
            f"fold {k + 1} of {folds}: training on {len(train_rows)} rows, labelling the other {len(held_rows)}",
            flush=True,
        )
        finetune_job(
            params=params.to_dict(),  # a job is handed its params serialised
            train_path=str(run_dir / "train.parquet"),
            target_column=target,
            test_path=str(test_path),
            loss_name=loss_name,
            loss_entry=loss_entry,
            out=out,
            info={**info, "role": "chain_fold", "fold": k},
            threads=threads,
            label_split_path=str(run_dir / "heldout.parquet"),
            label_info={**info, "fold": k},
            supervision=supervision,
            activations=fold_activations,
            **untracked,
        )
        parts.append(pl.read_parquet(out["labels"]))
        truncated += int(read_parquet_metadata(out["labels"])["n_truncated"])
        checkpoints.append(checkpoint_sha256(out["checkpoint"]))
        shutil.rmtree(out["checkpoint"])
    table = pl.concat(parts)
    table = split.select("id").join(table, on="id", how="left", maintain_order="left")
    write_parquet(
        table,
        out_path,
        {
            **info,
            "folds": folds,
            "checkpoint_sha256": ",".join(checkpoints),
            "code_version": code_version(),
            "n_truncated": truncated,
            **move_stats(table),
        },
    )
    print(
        f"wrote {out_path}: {table.height} rows labelled out of fold by {folds} runs, accuracy against ground truth "
        f"{table['correct'].mean():.4f}",
        flush=True,
    )
    return table
