"""Seeded, class-balanced, disjoint splits drawn at random from a source (never its first N rows)."""

from __future__ import annotations

import random

import polars as pl

from w2s.data.sources import Source
from w2s.errors import W2SError

SPLITS = ("weak_train", "strong_train", "test")


def row_rng(seed: int, index: int) -> random.Random:
    """The random stream for formatting one row: depends on the seed and the row only."""
    return random.Random(f"{seed}:{index}")


def sample_splits(source: Source, dataset: str, sizes: dict[str, int],
                  seed: int) -> tuple[dict[str, pl.DataFrame], int]:
    """Draw rows in a seeded random order until each split has half its rows of each class; split them apart.

    A row whose formatted text equals one drawn before is skipped (whatever its label): identical rows in the source
    would otherwise land in training and test splits alike. Returns one frame per split with columns id (stable
    across seeds: "<dataset>:<source row>"), text, label and group (the source's subgroup of the row), and the
    number of duplicate rows skipped.
    """
    need = {0: sum(n // 2 for n in sizes.values()), 1: sum(n - n // 2 for n in sizes.values())}
    drawn: dict[int, list[tuple[int, str]]] = {0: [], 1: []}
    seen: set[str] = set()
    duplicates = 0
    order = list(range(len(source)))
    random.Random(seed).shuffle(order)
    for index in order:
        if len(drawn[0]) >= need[0] and len(drawn[1]) >= need[1]:
            break
        text, label = source.example(index, row_rng(seed, index))
        if text in seen:
            duplicates += 1
            continue
        seen.add(text)
        if len(drawn[label]) < need[label]:
            drawn[label].append((index, text))
    if len(drawn[0]) < need[0] or len(drawn[1]) < need[1]:
        raise W2SError(
            f"dataset {dataset} ({source.name}): too few rows after balancing classes 50/50: "
            f"the sizes {sizes} need {need[0]} rows of label 0 and {need[1]} of label 1, "
            f"but the {len(source)} rows hold only {len(drawn[0])} and {len(drawn[1])}"
            + (f" once {duplicates} rows that repeat another row's text are left out" if duplicates else "")
        )
    splits, start = {}, {0: 0, 1: 0}
    shuffle = random.Random(seed + 1)
    for split, n in sizes.items():
        rows = []
        for label, count in ((0, n // 2), (1, n - n // 2)):
            rows += [(f"{dataset}:{i}", text, label, source.group(i))
                     for i, text in drawn[label][start[label] : start[label] + count]]
            start[label] += count
        shuffle.shuffle(rows)
        schema = {"id": pl.Utf8, "text": pl.Utf8, "label": pl.Int8, "group": pl.Utf8}
        splits[split] = pl.DataFrame(rows, schema=schema, orient="row")
    return splits, duplicates
