"""Loading a Hugging Face task (see w2s/data/tasks/) as a source of binary examples.

Rows come from `datasets.load_dataset`, either by hub id (`source`, `subset`, `splits`) or from local files in the
dataset's own schema (`data_files`), so the same code path serves the Hub and offline fixtures.
"""

from __future__ import annotations

import random
from pathlib import Path

from w2s.data.sources import Source
from w2s.data.tasks import HF_TASKS
from w2s.data.tasks.base import PARQUET_EXPORT
from w2s.errors import W2SError
from w2s.hub import HubRef, local_copy, looks_like_local_path


def column_values(rows, column: str, where: str = "the dataset") -> list:
    """A column of a Dataset as a list, straight from Arrow (fast on millions of rows), of the rows it holds: after
    `select`, `rows.data` still holds the rows left out, so it is read through the Dataset's own indices. Text that
    is not UTF-8 (which the json loader lets through) is an error naming `where` and the row."""
    values = rows.select_columns([column]).with_format("arrow")[:].column(column)
    try:
        return values.to_pylist()
    except UnicodeDecodeError:
        row = next(i for i in range(len(values)) if not decodes(values[i]))
        raise not_utf8(where, row, column) from None


def decodes(value) -> bool:
    try:
        value.as_py()
    except UnicodeDecodeError:
        return False
    return True


def not_utf8(where: str, row: int, column: str) -> W2SError:
    return W2SError(
        f"{where}: row {row} (counting from 0 over the rows read) has {column!r} text that is not valid UTF-8; "
        "fix or remove that row (text files must be UTF-8)"
    )


def checked_labels(task_name: str, rows, where: str):
    """`rows` without the rows the dataset card marks as unlabelled, and how many those were; any other label
    outside the task's valid values is an error that names the dataset, the split or file, and the count."""
    task = HF_TASKS[task_name]
    if task.label_column is None:
        return rows, 0
    values = column_values(rows, task.label_column)
    marks_unlabelled = (
        task.unlabelled is not None
    )  # else a missing (None) label would count as marked
    unlabelled = {i for i, v in enumerate(values) if marks_unlabelled and v == task.unlabelled}
    invalid = [v for i, v in enumerate(values) if v not in task.labels and i not in unlabelled]
    if invalid:
        raise W2SError(
            f"dataset {task_name} ({where}): {len(invalid)} of {len(values)} rows have a {task.label_column!r} "
            f"outside {list(task.labels)} (e.g. {invalid[0]!r})"
        )
    if unlabelled:
        print(
            f"dataset {task_name} ({where}): dropping {len(unlabelled)} of {len(values)} rows whose "
            f"{task.label_column!r} is {task.unlabelled!r}, the dataset's mark for an unlabelled row",
            flush=True,
        )
        rows = rows.select([i for i in range(len(values)) if i not in unlabelled])
    return rows, len(unlabelled)


def hub_location(task_name: str, options: dict) -> tuple[str, str | None, str | None, str | None]:
    """(source, subset, revision, data_dir) of a task's rows: the options', else the task's own (w2s/data/tasks/)
    where the source is the task's hub id; another repository (a copy, a local folder) has its own layout."""
    task = HF_TASKS[task_name]
    source = options.get("source", task.source)
    own = source == task.source
    return (
        source,
        options.get("subset", task.subset),
        options.get("revision", task.revision if own else None),
        options.get("data_dir", task.data_dir if own else None),
    )


def dataset_ref(task_name: str, options: dict) -> HubRef | None:
    """The hub repository a task's rows come from, with the files it reads; None for local files or folders."""
    if options.get("data_files"):
        return None
    source, _, revision, data_dir = hub_location(task_name, options)
    if looks_like_local_path(source):
        return None
    return HubRef(source, revision or "main", "dataset", data_dir=data_dir)


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
        builder = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(
            Path(files[0]).suffix
        )
        if builder is None:
            raise W2SError(
                f"dataset {task_name}: cannot tell the format of {files[0]}; use .jsonl, .csv or .parquet"
            )
        try:
            loaded = [datasets.load_dataset(builder, data_files=files, split="train")]
        except Exception as exc:  # malformed rows surface as the datasets library's own error types
            raise W2SError(
                f"dataset {task_name}: could not read {', '.join(files)} as {builder}: {exc}"
            ) from exc
        wheres = [", ".join(files)]
    else:
        source, subset, _, data_dir = hub_location(task_name, options)
        ref = dataset_ref(task_name, options)
        # A hub repository is read from its snapshot in the Hugging Face cache (fetched first where the hub can be
        # reached), so that a job on an offline node reads what `w2s fetch` put there (w2s.hub).
        path = str(local_copy(ref)) if ref else source
        try:
            loaded = [
                datasets.load_dataset(path, subset, split=split, data_dir=data_dir)
                for split in splits
            ]
        except Exception as exc:  # unknown config or split, a loading script: all end here
            where = f"{source!r}" + (f" at revision {ref.revision}" if ref else "")
            scripts = sorted(p.name for p in Path(path).glob("*.py"))
            reason = exc
            if scripts:  # what `datasets` 4 and later refuses to run, whatever it then says
                reason = (
                    f"it holds a loading script ({', '.join(scripts)}), which datasets 4 and later refuses to "
                    f"run; read the hub's parquet export instead: options.revision {PARQUET_EXPORT}, with the "
                    "config as options.data_dir where there are several"
                )
            raise W2SError(
                f"dataset {task_name}: could not load {where} splits {splits}: {reason}"
            ) from exc
        wheres = [f"{source} split {split}" for split in splits]
    for part, where in zip(loaded, wheres, strict=True):
        missing = [c for c in (*task.columns, *task.item_columns) if c not in part.column_names]
        if missing:
            raise W2SError(
                f"dataset {task_name} ({where}): missing column(s) {missing}; found {part.column_names}"
            )
    checked = [
        checked_labels(task_name, part, where) for part, where in zip(loaded, wheres, strict=True)
    ]
    parts = [part for part, _ in checked]
    return (datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]), sum(
        n for _, n in checked
    )


def dropped_rows(task, rows, where: str):
    """`rows` without those the task's `drop` names a reason for, or that lack a value it reads
    ("missing_values"), and the count per reason."""
    columns = {c: column_values(rows, c, where) for c in task.columns}
    reasons = [
        "missing_values" if None in values else task.drop(dict(zip(columns, values)))
        for values in zip(*columns.values())
    ]
    counts: dict[str, int] = {}
    for reason in reasons:
        if reason is not None:
            counts[reason] = counts.get(reason, 0) + 1
    if counts:
        rows = rows.select([i for i, reason in enumerate(reasons) if reason is None])
    return rows, counts


class HFSource(Source):
    def __init__(self, task_name: str, options: dict):
        if task_name not in HF_TASKS:
            raise W2SError(f"unknown Hugging Face task {task_name!r}; known: {sorted(HF_TASKS)}")
        self.name = task_name
        self.task = HF_TASKS[task_name]
        fmt = options.get("format", next(iter(self.task.formats)))
        if fmt not in self.task.formats:
            raise W2SError(
                f"dataset {task_name}: options.format must be one of {list(self.task.formats)}, got "
                f"{fmt!r}"
            )
        self.format = self.task.formats[fmt]
        files = options.get("data_files")
        source = ", ".join([files] if isinstance(files, str) else files) if files else None
        self.where = f"dataset {task_name} ({source or options.get('source', self.task.source)})"
        self.rows, unlabelled = load_hf_rows(task_name, options)
        self.dropped = {"unlabelled_rows": unlabelled} if unlabelled else {}
        self.pairs = self.task.pairs
        if self.task.drop:
            self.rows, reasons = dropped_rows(self.task, self.rows, self.where)
            self.dropped = {**self.dropped, **reasons}
            if reasons:
                print(f"dataset {task_name}: rows left out: {reasons}", flush=True)

    def __len__(self) -> int:
        return len(self.rows)

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        try:
            row = self.rows[index]
        except UnicodeDecodeError:
            raise not_utf8(self.where, index, "a text column") from None
        text, label = self.format(row, rng)
        if label not in (0, 1):
            raise W2SError(
                f"dataset {self.name}: row {index} gives label {label!r}; expected 0 or 1"
            )
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
