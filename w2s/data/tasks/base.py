"""What a Hugging Face task is: where its rows come from, the columns and labels its card promises, and how a row
becomes a binary example. Each module of this package declares a family of tasks as `TASKS`."""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

Formatter = Callable[[dict, random.Random], tuple[str, int]]

# The hub's parquet conversion of a dataset, the branch to read where main holds a loading script (which `datasets`
# 4 and later refuses). It has one config, `default`, laid out as `<original config>/<split>/0000.parquet`: a
# dataset with several configs is read there with `data_dir=<config>` and no config name.
PARQUET_EXPORT = "refs/convert/parquet"


@dataclass(frozen=True)
class HFTask:
    """`formats` maps a name to a formatter `(row, rng) -> (text, label)`; the first is the default, the others are
    chosen with the dataset's `options.format`."""

    source: str  # the hub id
    card: str  # the dataset card the schema is taken from
    columns: tuple[str, ...]  # the columns the formatter reads
    formats: Mapping[str, Formatter]
    subset: str | None = None  # the config name passed to `load_dataset`
    revision: str | None = None  # a hub revision: PARQUET_EXPORT where main holds a loading script
    data_dir: str | None = (
        None  # the repository folder the task's files are in (a config's folder in the export)
    )
    splits: tuple[str, ...] = (
        "train",
    )  # the splits loaded by default: those whose labels the card says are given
    label_column: str | None = None  # the source's own label column, checked before formatting
    labels: tuple = ()  # its valid values
    unlabelled: object = (
        None  # the value the dataset card gives rows without a label (dropped, and counted)
    )
    # Columns whose values together name the source item a row belongs to, where one item spans several rows (the
    # candidate answers of one question): such rows are drawn into one split, never straddling two.
    item_columns: tuple[str, ...] = ()
    item_key: Callable[..., Hashable] | None = (
        None  # the item from those columns' values, where not the values
    )
    group: Callable[[dict], str] | None = None  # a row's subgroup for breakdowns; "all" without one
    # Comparisons (w2s.data.pairs): each formatter gives ((prefix, completion_a, completion_b), label)
    pairs: bool = False
    # Why a row is left out before sampling (e.g. "ties": both completions equal), or None to keep it; the rows
    # left out are counted by reason in the splits' metadata
    drop: Callable[[dict], str | None] | None = None


def one_candidate(rng: random.Random, correct: str, wrong: list[str]) -> tuple[str, int]:
    """A multiple-choice item as one binary example, as the reference code does for SciQ: label 1 (half the time)
    shows the correct answer, label 0 one wrong answer drawn at random."""
    label = int(rng.random() < 0.5)
    return (correct if label else rng.choice(wrong)), label
