"""The predictions file: one row per example with the model's p(label = 1), for the weak labels and every run's
test predictions alike; for a generative task, the answer the model wrote (ANSWER_COLUMNS, w2s.data.answers).
Writing, merging shards and scoring them needs no torch, so the CLI and the merge jobs start fast.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.columns import COMPLETIONS
from w2s.errors import W2SError
from w2s.io import REMAKE, read_json, read_parquet, read_parquet_metadata, write_json, write_parquet
from w2s.records.metrics import answer_metrics, classification_metrics
from w2s.version import code_version

PREDICTION_COLUMNS = ("id", "text", "label", "soft_label", "hard_label", "correct", "group")
# a generative task's (w2s.data.answers): the true answer, the one the model wrote, its log-probability, whether a
# stop string ended it, and whether it is the true one
ANSWER_COLUMNS = ("id", "text", "answer", "generated", "logprob", "stopped", "correct", "group")


def read_table(path, columns, what: str) -> pl.DataFrame:
    """A results table, or an error naming the file and the columns that `what` (e.g. "a labels file") has."""
    return checked_columns(read_parquet(path), path, columns, what)


def checked_columns(table: pl.DataFrame, path, columns, what: str) -> pl.DataFrame:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise W2SError(f"{path}: missing column(s) {missing}; {what} has {list(columns)}")
    return table


def read_split(path, target_column: str) -> pl.DataFrame:
    """A split or labels file, checked: readable, the columns a stage needs, rows, unique ids, and targets that are
    probabilities (a NaN soft label would otherwise train a student on nothing)."""
    frame = read_parquet(path)
    missing = [c for c in ("id", "text", target_column) if c not in frame.columns]
    if missing:
        raise W2SError(f"{path}: missing column(s) {missing}; found {frame.columns}; {REMAKE}")
    if frame.is_empty():
        raise W2SError(f"{path} has no rows; {REMAKE}")
    if frame["id"].n_unique() != frame.height:
        raise W2SError(
            f"{path}: {frame.height - frame['id'].n_unique()} ids appear more than once; {REMAKE}"
        )
    if frame.schema[target_column] == pl.Utf8:  # a generative task's answers
        empty = frame[target_column].is_null()
        if empty.any():
            raise W2SError(
                f"{path}: {int(empty.sum())} rows have no {target_column!r} answer (row "
                f"{int(empty.arg_max())}); {REMAKE}"
            )
        return frame
    target = frame[target_column].cast(pl.Float64, strict=False)
    bad = ~(target.is_finite() & (target >= 0) & (target <= 1)).fill_null(False)
    if bad.any():
        row = int(bad.arg_max())
        raise W2SError(
            f"{path}: {int(bad.sum())} rows have a {target_column!r} that is not a number in [0, 1] "
            f"(row {row}: {frame[target_column][row]!r}); {REMAKE}"
        )
    return frame


def check_provenance(path, expected: dict) -> None:
    """A labels file must be the one a run asks for (dataset, seed, weak model, split), by its own metadata: a file
    copied or linked from another run would otherwise train a student on the wrong labels without a word."""
    metadata = read_parquet_metadata(path)
    wrong = {k: (metadata.get(k), str(v)) for k, v in expected.items() if metadata.get(k) != str(v)}
    if wrong:
        found = ", ".join(
            f"{k} {got!r} where {want!r} was expected" for k, (got, want) in wrong.items()
        )
        raise W2SError(
            f"{path} is not the labels file this run needs: it records {found}; {REMAKE}"
        )


def on_same_examples(first: pl.DataFrame, second: pl.DataFrame, what: str) -> pl.DataFrame:
    """`first` with `second`'s columns joined by id, in `first`'s row order; an error naming `what` (the two files)
    unless both hold the same examples."""
    shared = int(first["id"].is_in(second["id"].implode()).sum())
    if not shared == first.height == second.height:
        raise W2SError(
            f"{what} predict different examples ({first.height} and {second.height} rows, {shared} shared "
            "ids): they must be predictions of the same split"
        )
    return first.join(second, on="id", how="left", maintain_order="left")


def prediction_table(frame: pl.DataFrame, p1: np.ndarray) -> pl.DataFrame:
    """The predictions file's rows: `frame`'s examples with their p(label = 1) and what follows from it (for a
    comparison, its two completions after the prefix, and p(completion a is preferred))."""
    if not np.isfinite(p1).all():
        raise W2SError(
            f"{int((~np.isfinite(p1)).sum())} of {len(p1)} predictions are not finite numbers: the model's "
            "weights are (training diverged, or the checkpoint is damaged)"
        )
    hard = (p1 > 0.5).astype(np.int8)
    return pl.DataFrame(
        {
            "id": frame["id"],
            "text": frame["text"],
            **{c: frame[c] for c in COMPLETIONS if c in frame.columns},
            "label": frame["label"].cast(pl.Int8),
            "soft_label": p1,
            "hard_label": hard,
            "correct": hard == frame["label"].to_numpy(),
            "group": frame["group"] if "group" in frame.columns else ["all"] * len(frame),
        }
    )


def answer_table(
    frame: pl.DataFrame,
    answers: list,
    legal: list[bool] | None = None,
    also_correct: list[bool] | None = None,
) -> pl.DataFrame:
    """A generative task's predictions: `frame`'s prompts and true answers with each row's generated answer (an
    object with text, logprob and stopped) and whether it is the true one (or, with `also_correct`, one that row
    accepts too); with `legal` (chess), whether each answer is a legal move in its position, as a last column."""
    generated = [a.text for a in answers]
    correct = [g == t.strip() for g, t in zip(generated, frame["answer"], strict=True)]
    if also_correct is not None:
        correct = [c or other for c, other in zip(correct, also_correct, strict=True)]
    table = pl.DataFrame(
        {
            "id": frame["id"],
            "text": frame["text"],
            "answer": frame["answer"],
            "generated": generated,
            "logprob": [a.logprob for a in answers],
            "stopped": [a.stopped for a in answers],
            "correct": correct,
            "group": frame["group"] if "group" in frame.columns else ["all"] * len(frame),
        },
        schema_overrides={"logprob": pl.Float64},
    ).select(ANSWER_COLUMNS)
    return table if legal is None else table.with_columns(legal=pl.Series(legal, dtype=pl.Boolean))


def move_stats(table: pl.DataFrame) -> dict:
    """What a labels or predictions file of chess moves records about its answers: how many are no legal move
    (`illegal_answers`), the share that are legal (`legal_rate`), and the share that are the right move however they
    mark check or mate (`move_accuracy`, beside the exact-string accuracy); nothing for other files (and no
    move_accuracy for a file written before it was recorded)."""
    if "legal" not in table.columns:
        return {}
    stats = {
        "illegal_answers": int((~table["legal"]).sum()),
        "legal_rate": float(table["legal"].mean()),
    }
    if "move_correct" in table.columns:
        stats["move_accuracy"] = float(table["move_correct"].mean())
    return stats


def is_answer_table(table: pl.DataFrame) -> bool:
    return "generated" in table.columns


def read_predictions(path, what: str = "a predictions file") -> pl.DataFrame:
    """A predictions file of either kind, checked to have its kind's columns (`what` it is, for the error)."""
    table = read_parquet(path)
    if is_answer_table(table):
        return checked_columns(table, path, ANSWER_COLUMNS, f"{what} of a generative task")
    return checked_columns(table, path, PREDICTION_COLUMNS, what)


def hard_answers(table: pl.DataFrame) -> pl.Series:
    """Each row's answer: the hard label, or a generative task's generated answer."""
    return table["generated"] if is_answer_table(table) else table["hard_label"]


def confidence_view(table: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(p, outcome) for calibration: p(1) and the label; for a generative task, the answer's probability and
    whether it is right (the answer's probability is its top-label confidence). Float64 and int64 for every kind,
    so a grid's tables of several kinds pool into one (a label is stored as a small integer, `correct` as a bool)."""
    if is_answer_table(table):
        p, outcome = np.exp(table["logprob"].to_numpy()), table["correct"].to_numpy()
    else:
        p, outcome = table["soft_label"].to_numpy(), table["label"].to_numpy()
    return p.astype(np.float64), outcome.astype(np.int64)


def scores(table: pl.DataFrame) -> dict:
    """Accuracy, AUROC and n of a predictions table (w2s.records.metrics)."""
    if is_answer_table(table):
        metrics = answer_metrics(table["correct"].to_numpy(), table["logprob"].to_numpy())
        return metrics | move_stats(table)
    return classification_metrics(table["soft_label"].to_numpy(), table["label"].to_numpy())


def write_scored(table: pl.DataFrame, out: dict, info: dict, **extra) -> dict:
    """Write a run's test predictions and its metrics.json (info, accuracy, AUROC, n, `extra`); return the metrics."""
    write_parquet(table, out["predictions"], {**info, "code_version": code_version()})
    metrics = {
        **info,
        **scores(table),
        **extra,
        "code_version": code_version(),
    }
    write_json(metrics, out["metrics"])
    print(
        f"{info['role']} test accuracy {metrics['accuracy']:.4f}, AUROC {metrics['auroc']:.4f} on {metrics['n']} "
        "examples",
        flush=True,
    )
    return metrics


def merge_shards(shard_paths: list) -> tuple[pl.DataFrame, dict]:
    """Prediction shards concatenated in order, and their metadata (truncations summed)."""
    metadata = [read_parquet_metadata(path) for path in shard_paths]
    if len({m["checkpoint_sha256"] for m in metadata}) != 1:
        raise W2SError(
            f"shards {shard_paths} come from different checkpoints; rerun the jobs that wrote them"
        )
    tables = [read_parquet(path) for path in shard_paths]
    check_coverage(shard_paths, tables, metadata)
    table = pl.concat(tables)
    shard_keys = ("row_start", "row_stop", "split_rows")
    merged = {
        k: v for k, v in metadata[0].items() if not k.startswith("ARROW") and k not in shard_keys
    }
    merged["n_truncated"] = sum(int(m["n_truncated"]) for m in metadata)
    merged |= move_stats(table)  # of the whole split, not of the first shard
    print(f"merged {len(shard_paths)} shards: {len(table)} rows", flush=True)
    return table, merged


def check_coverage(shard_paths: list, tables: list[pl.DataFrame], metadata: list[dict]) -> None:
    """The shards, in order, hold every row of the split once: each starts where the one before stopped, holds the
    rows its metadata says, and the last stops at the split's end."""
    expected_start = 0
    for path, table, meta in zip(shard_paths, tables, metadata, strict=True):
        if "row_start" not in meta:
            raise W2SError(f"{path} does not record which rows it holds (an older shard); {REMAKE}")
        start, stop, total = int(meta["row_start"]), int(meta["row_stop"]), int(meta["split_rows"])
        if start != expected_start or table.height != stop - start:
            raise W2SError(
                f"{path} holds rows {start}-{stop} ({table.height} rows) where rows from {expected_start} "
                f"were expected: the shards do not cover the split; {REMAKE}"
            )
        expected_start = stop
    if expected_start != total:
        raise W2SError(
            f"the shards {shard_paths} stop at row {expected_start} of {total}; {REMAKE}"
        )


def merge_label_shards(shard_paths: list, out_path) -> pl.DataFrame:
    """Label shards in order as one labels file, with the shards' provenance."""
    table, metadata = merge_shards(shard_paths)
    write_parquet(table, out_path, metadata)
    return table


def score_run(shard_paths: list, training_path, out: dict, info: dict) -> dict:
    """A run whose test predictions were made in shards: merge them, and write its predictions and metrics as a
    training job that predicts itself would."""
    table, metadata = merge_shards(shard_paths)
    return write_scored(
        table, out, info, n_test_truncated=int(metadata["n_truncated"]), **read_json(training_path)
    )
