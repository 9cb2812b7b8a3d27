"""Atomic file writes: a stage's output appears whole or not at all, so no later stage reads a half-written file."""

from __future__ import annotations

import json
import math
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from w2s.errors import W2SError

REMAKE = "delete it and rerun snakemake, which makes it again"


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary sibling path (for a file or a directory); rename it onto `path` only if the block finishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        if (
            tmp.is_dir() and path.is_dir()
        ):  # a finished twin (another process wrote the same output): replace it
            old = path.with_name(f".{path.name}.old{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


def write_parquet(
    frame: pl.DataFrame, path: str | Path, metadata: dict[str, str] | None = None
) -> None:
    with atomic_path(path) as tmp:
        frame.write_parquet(tmp, metadata={k: str(v) for k, v in (metadata or {}).items()})


def write_table(frame: pl.DataFrame, csv_path: str | Path, parquet_path: str | Path) -> None:
    """A results table twice: csv to read, parquet to load."""
    with atomic_path(csv_path) as tmp:
        frame.write_csv(tmp)
    write_parquet(frame, parquet_path)


def finite_or_null(obj):
    """`obj` with every non-finite float (NaN, an infinity) as None: JSON has no such numbers, and strict parsers
    (JavaScript's, Go's, jq 1.6) refuse the NaN Python's json writes by default."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {key: finite_or_null(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_null(value) for value in obj]
    return obj


def json_text(obj, **options) -> str:
    """Strict JSON: a value JSON cannot hold is null (an undefined AUROC, for one), never a bare NaN."""
    return json.dumps(finite_or_null(obj), allow_nan=False, **options)


def write_json(obj, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json_text(obj, indent=2, sort_keys=True) + "\n")


def damaged(path: str | Path, kind: str, exc: Exception) -> W2SError:
    """The error for a file an earlier stage wrote that cannot be read: it names the file and says what to do; a
    path where nothing is, is not called damaged."""
    if not Path(path).exists():
        return W2SError(
            f"{path} is not there (no such file): check the path, or run the stage that writes it"
        )
    return W2SError(
        f"{path} cannot be read as {kind} ({exc}): it is damaged or incomplete; {REMAKE}"
    )


def read_json(path: str | Path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise damaged(path, "JSON", exc) from None


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pl.DataFrame:
    if columns is not None:
        missing = [c for c in columns if c not in parquet_columns(path)]
        if missing:
            raise W2SError(f"{path}: missing column(s) {missing}; {REMAKE}")
    try:
        return pl.read_parquet(path, columns=columns)
    except Exception as exc:  # polars raises several types for a truncated or foreign file
        raise damaged(path, "parquet", exc) from None


def parquet_columns(path: str | Path) -> list[str]:
    try:
        return list(pl.read_parquet_schema(path))
    except Exception as exc:
        raise damaged(path, "parquet", exc) from None


def read_parquet_metadata(path: str | Path) -> dict[str, str]:
    try:
        return pl.read_parquet_metadata(path)
    except Exception as exc:
        raise damaged(path, "parquet", exc) from None
