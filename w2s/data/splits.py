"""Seeded, class-balanced, disjoint splits drawn at random from a source (never its first N rows)."""

from __future__ import annotations

import random

import polars as pl

from w2s.columns import COMPLETIONS
from w2s.data.sources import Source
from w2s.errors import W2SError
from w2s.io import read_parquet

SPLITS = ("weak_train", "strong_train", "test")


def row_rng(seed: int, index: int) -> random.Random:
    """The random stream for formatting one row: depends on the seed and the row only."""
    return random.Random(f"{seed}:{index}")


def draw_order(n: int, items: list | None, seed: int) -> list[int]:
    """Row indices in a seeded random order; where rows share a source item (`items`, one per row), an item's rows
    come together (items in the order their first row came up)."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    if items is not None:
        first: dict = {}
        for position, index in enumerate(order):
            first.setdefault(items[index], position)
        order.sort(
            key=lambda index: first[items[index]]
        )  # stable: an item's rows keep their shuffled order
    return order


class DistinctRows:
    """A source's rows in the seeded draw order (`draw_order`), formatted, as (index, text, label or answer): a row
    whose text repeats one drawn before is skipped and counted (`duplicates`). Rows are formatted as the loop asks
    for them, so a loop that stops early formats no more."""

    def __init__(self, source: Source, seed: int):
        self.source, self.seed, self.duplicates = source, seed, 0

    def __iter__(self):
        seen: set[str] = set()
        for index in draw_order(len(self.source), self.source.items(), self.seed):
            text, target = self.source.example(index, row_rng(self.seed, index))
            if text in seen:
                self.duplicates += 1
                continue
            seen.add(text)
            yield index, text, target


def sample_splits(
    source: Source, dataset: str, sizes: dict[str, int], seed: int
) -> tuple[dict[str, pl.DataFrame], int]:
    """Draw rows in a seeded random order until each split has half its rows of each class; split them apart.

    Each row goes to the first split (in the order of `sizes`) that still needs its label. Where rows share a
    source item, the item's rows all go to the split its first row went to, as far as that split needs them, and
    the rest are left out: no item straddles two splits. A row whose formatted text equals one drawn before is
    skipped (whatever its label): identical rows in the source would otherwise land in training and test splits
    alike. Returns one frame per split with columns id (stable across seeds: "<dataset>:<source row>"), text (a
    comparison's prefix, then completion_a and completion_b: w2s.data.pairs), label and group (the source's
    subgroup of the row), and the number of duplicate rows skipped. A generative task's
    source (`answers`) has no classes to balance: `sample_answer_splits`.
    """
    if source.answers:
        return sample_answer_splits(source, dataset, sizes, seed)
    need = {split: {0: n // 2, 1: n - n // 2} for split, n in sizes.items()}
    drawn: dict[str, dict[int, list[tuple[int, str]]]] = {split: {0: [], 1: []} for split in sizes}
    missing = {0: sum(n[0] for n in need.values()), 1: sum(n[1] for n in need.values())}
    items = source.items()
    rows = DistinctRows(source, seed)
    item_split: tuple = (None, None)  # (the item being drawn, the split it went to)
    for index, text, label in rows:
        item = items[index] if items is not None else index
        if item == item_split[0]:
            split = item_split[1]
        else:
            split = next((s for s in sizes if len(drawn[s][label]) < need[s][label]), None)
            item_split = (item, split)
        if split is not None and len(drawn[split][label]) < need[split][label]:
            drawn[split][label].append((index, text))
            missing[label] -= 1
        if not missing[0] and not missing[1]:
            break
    duplicates = rows.duplicates
    if missing[0] or missing[1]:
        total = {label: sum(n[label] for n in need.values()) for label in (0, 1)}
        raise W2SError(
            f"dataset {dataset} ({source.name}): too few rows after balancing classes 50/50: "
            f"the sizes {sizes} need {total[0]} rows of label 0 and {total[1]} of label 1, "
            f"but the {len(source)} rows hold only {total[0] - missing[0]} and {total[1] - missing[1]}"
            + (
                f" once {duplicates} rows that repeat another row's text are left out"
                if duplicates
                else ""
            )
            + (" that fit their items' splits" if items is not None else "")
        )
    splits = {}
    shuffle = random.Random(seed + 1)
    texts = {"text": pl.Utf8} | ({c: pl.Utf8 for c in COMPLETIONS} if source.pairs else {})
    schema = {"id": pl.Utf8, **texts, "label": pl.Int8, "group": pl.Utf8}
    for split in sizes:
        rows = [
            (f"{dataset}:{i}", *(text if source.pairs else (text,)), label, source.group(i))
            for label in (0, 1)
            for i, text in drawn[split][label]
        ]
        shuffle.shuffle(rows)
        splits[split] = pl.DataFrame(rows, schema=schema, orient="row")
    return splits, duplicates


def sample_answer_splits(
    source: Source, dataset: str, sizes: dict[str, int], seed: int
) -> tuple[dict[str, pl.DataFrame], int]:
    """The splits of a generative task: rows in the seeded draw order, each to the first split (in the order of
    `sizes`) that still needs rows, a prompt that repeats one drawn before skipped. A row only the test split may
    hold (`source.test_only`) that comes up while another split fills is left out: the test split, drawn from the
    rest of the same random order, is then a sample of all rows, while the others hold the allowed rows only.
    Columns id, text (the prompt), answer, label (1: the answer is the truth) and group."""
    drawn: dict[str, list] = {split: [] for split in sizes}
    needed = sum(sizes.values())
    splits = iter(sizes)
    split = next(splits)
    rows, test_only = DistinctRows(source, seed), 0
    for index, prompt, answer in rows:
        while len(drawn[split]) == sizes[split]:
            split = next(splits)
        if split != "test" and source.test_only(index):
            test_only += 1
            continue
        reason = source.unusable(index)
        if reason:
            source.left_out(reason)
            continue
        drawn[split].append((f"{dataset}:{index}", prompt, answer, 1, source.group(index)))
        needed -= 1
        if not needed:
            break
    if needed:
        raise W2SError(
            f"dataset {dataset} ({source.name}): too few rows: the sizes {sizes} need {sum(sizes.values())} "
            f"distinct prompts, but the {len(source)} rows hold only {sum(sizes.values()) - needed}"
            + (
                f", {test_only} of them left out of the splits before test (test-only rows)"
                if test_only
                else ""
            )
        )
    schema = {"id": pl.Utf8, "text": pl.Utf8, "answer": pl.Utf8, "label": pl.Int8, "group": pl.Utf8}
    frames = {s: pl.DataFrame(found, schema=schema, orient="row") for s, found in drawn.items()}
    return frames, rows.duplicates


def continued_split(
    source: Source, dataset: str, sizes: dict[str, int], seed: int, split_paths: list
) -> pl.DataFrame:
    """The last split of `sizes`: the draw of `sample_splits` continued past the splits before it, so it is
    disjoint from them and balanced the same way (the validation split, a chain link's fresh split). The files
    `split_paths` (of the first splits of `sizes`, in order) must be what the same draw gives, or its rows could
    repeat theirs."""
    splits, _ = sample_splits(source, dataset, sizes, seed)
    for split, path in zip(sizes, split_paths):
        if read_parquet(path)["id"].to_list() != splits[split]["id"].to_list():
            raise W2SError(
                f"{path} is not the {split} split that dataset {dataset}'s seed {seed} draws now (made by "
                f"other code or settings), so a {list(sizes)[-1]} split drawn now could overlap it: remake the "
                "splits with snakemake --forcerun split_dataset"
            )
    return splits[list(sizes)[-1]]


def validation_split(
    source: Source, dataset: str, entry: dict, seed: int, split_paths: list
) -> pl.DataFrame:
    """The validation split, drawn after weak_train, strong_train and test (`split_paths`, in that order)."""
    sizes = {split: entry[f"n_{split}"] for split in SPLITS} | {"validation": entry["n_validation"]}
    return continued_split(source, dataset, sizes, seed, split_paths)
