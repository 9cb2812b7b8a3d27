"""Loading a Hugging Face task (see w2s/data/tasks/) as a source of binary examples.

Rows come from `datasets.load_dataset`, either by hub id (`source`, `subset`, `splits`) or from local files in the
dataset's own schema (`data_files`), so the same code path serves the Hub and offline fixtures.
"""

from __future__ import annotations

import random
from pathlib import Path

from w2s.data.sources import Source
from w2s.data.tasks import HF_TASKS
from w2s.errors import W2SError


def column_values(rows, column: str) -> list:
    """A column of a Dataset as a list, straight from Arrow (fast on millions of rows), of the rows it holds: after
    `select`, `rows.data` still holds the rows left out, so it is read through the Dataset's own indices."""
    return rows.select_columns([column]).with_format("arrow")[:].column(column).to_pylist()


def checked_labels(task_name: str, rows, where: str):
    """`rows` without the rows the dataset card marks as unlabelled, and how many those were; any other label
    outside the task's valid values is an error that names the dataset, the split or file, and the count."""
    task = HF_TASKS[task_name]
    if task.label_column is None:
        return rows, 0
    values = column_values(rows, task.label_column)
    marks_unlabelled = task.unlabelled is not None  # else a missing (None) label would count as marked
    unlabelled = {i for i, v in enumerate(values) if marks_unlabelled and v == task.unlabelled}
    invalid = [v for i, v in enumerate(values) if v not in task.labels and i not in unlabelled]
    if invalid:
        raise W2SError(
            f"dataset {task_name} ({where}): {len(invalid)} of {len(values)} rows have a {task.label_column!r} "
            f"outside {list(task.labels)} (e.g. {invalid[0]!r})"
        )
    if unlabelled:
        print(f"dataset {task_name} ({where}): dropping {len(unlabelled)} of {len(values)} rows whose "
              f"{task.label_column!r} is {task.unlabelled!r}, the dataset's mark for an unlabelled row", flush=True)
        rows = rows.select([i for i in range(len(values)) if i not in unlabelled])
    return rows, len(unlabelled)


def load_hf_rows(task_name: str, options: dict):
    """Load the configured splits of a HF dataset (hub id, local dataset dir, or local data_files) as one Dataset,
    with the count of unlabelled rows left out."""
    import datasets  # slow import; only the data stage needs it

    task = HF_TASKS[task_name]
    splits = options.get("splits", list(task.splits))
    data_files = options.get("data_files")
    if data_files:
        files = [data_files] if isinstance(data_files, str) else list(data_files)
        for file in files:
            if not Path(file).exists():
                raise W2SError(f"dataset {task_name}: data file {file} does not exist")
        builder = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(Path(files[0]).suffix)
        if builder is None:
            raise W2SError(f"dataset {task_name}: cannot tell the format of {files[0]}; use .jsonl, .csv or .parquet")
        try:
            loaded = [datasets.load_dataset(builder, data_files=files, split="train")]
        except Exception as exc:  # malformed rows surface as the datasets library's own error types
            raise W2SError(f"dataset {task_name}: could not read {', '.join(files)} as {builder}: {exc}") from exc
        wheres = [", ".join(files)]
    else:
        source = options.get("source", task.source)
        subset = options.get("subset", task.subset)
        own = source == task.source  # another repository (a copy, a local folder) has its own layout
        where = {"revision": options.get("revision", task.revision if own else None),
                 "data_dir": options.get("data_dir", task.data_dir if own else None)}
        try:
            loaded = [datasets.load_dataset(source, subset, split=split, **where) for split in splits]
        except Exception as exc:  # offline, unknown id, unknown split: all end here
            raise W2SError(f"dataset {task_name}: could not load {source!r} splits {splits}: {exc}") from exc
        wheres = [f"{source} split {split}" for split in splits]
    for part, where in zip(loaded, wheres, strict=True):
        missing = [c for c in (*task.columns, *task.item_columns) if c not in part.column_names]
        if missing:
            raise W2SError(f"dataset {task_name} ({where}): missing column(s) {missing}; found {part.column_names}")
    checked = [checked_labels(task_name, part, where) for part, where in zip(loaded, wheres, strict=True)]
    parts = [part for part, _ in checked]
    return (datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]), sum(n for _, n in checked)


class HFSource(Source):
    def __init__(self, task_name: str, options: dict):
        if task_name not in HF_TASKS:
            raise W2SError(f"unknown Hugging Face task {task_name!r}; known: {sorted(HF_TASKS)}")
        self.name = task_name
        self.task = HF_TASKS[task_name]
        fmt = options.get("format", next(iter(self.task.formats)))
        if fmt not in self.task.formats:
            raise W2SError(f"dataset {task_name}: options.format must be one of {list(self.task.formats)}, got "
                           f"{fmt!r}")
        self.format = self.task.formats[fmt]
        self.rows, unlabelled = load_hf_rows(task_name, options)
        self.dropped = {"unlabelled_rows": unlabelled} if unlabelled else {}

    def __len__(self) -> int:
        return len(self.rows)

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        text, label = self.format(self.rows[index], rng)
        if label not in (0, 1):
            raise W2SError(f"dataset {self.name}: row {index} gives label {label!r}; expected 0 or 1")
        return text, label

    def group(self, index: int) -> str:
        return self.task.group(self.rows[index]) if self.task.group else "all"

    def items(self) -> list | None:
        if not self.task.item_columns:
            return None
        columns = [column_values(self.rows, c) for c in self.task.item_columns]
        if self.task.item_key:
            return [self.task.item_key(*values) for values in zip(*columns, strict=True)]
        return list(zip(*columns, strict=True))
