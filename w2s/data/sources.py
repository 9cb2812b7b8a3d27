"""Example sources: anything that can hand out example i as (text, label).

A source is indexed rather than materialised so that sampling a few thousand rows of a multi-million-row dataset
formats only the rows it draws. `example(i, rng)` may use `rng` for per-row random choices (e.g. which distractor
to show); the caller seeds it from (seed, i), so a row's formatting does not depend on which other rows were drawn.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import polars as pl

from w2s.errors import W2SError


class Source:
    """Base class: `name` for messages, `__len__`, and `example(index, rng) -> (text, label)`; `dropped` counts the
    rows a source left out by reason (e.g. rows its dataset card marks as unlabelled), for the split's metadata.
    A source of a generative task (`answers`) gives (prompt, answer) instead (w2s.data.answers), one of comparisons
    (`pairs`) ((prefix, completion_a, completion_b), label) (w2s.data.pairs)."""

    name: str
    answers = False
    pairs = False
    dropped: Mapping[str, int] = MappingProxyType(
        {}
    )  # read-only: a subclass sets its own, never mutates this one

    def __len__(self) -> int:
        raise NotImplementedError

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        raise NotImplementedError

    def group(self, index: int) -> str:
        """A subgroup of the example for breakdowns (e.g. a world's kind of false statement)."""
        return "all"

    def test_only(self, index: int) -> bool:
        """Whether only the test split may hold the row (an easy-to-hard setting's hard rows)."""
        return False

    def unusable(self, index: int) -> str | None:
        """Why a row cannot be used (a reason to count it under), checked as the splits draw it: only rows drawn
        are checked, where a check costs too much to run on every row of a large source."""
        return None

    def left_out(self, reason: str) -> None:
        """Count one more row left out for `reason` (in `dropped`, which the split's metadata records)."""
        self.dropped = {**self.dropped, reason: self.dropped.get(reason, 0) + 1}

    def items(self) -> list | None:
        """Each row's source item, where one item spans several rows (the candidate answers of one question):
        the rows of one item are drawn into one split. None: every row is an item of its own."""
        return None


def read_table(path: Path) -> pl.DataFrame:
    """Read a jsonl, json, csv or parquet file into polars, with errors that name the file."""
    if not path.exists():
        raise W2SError(f"data file {path} does not exist")
    readers = {
        ".jsonl": pl.read_ndjson,
        ".csv": pl.read_csv,
        ".parquet": pl.read_parquet,
        ".json": pl.read_json,
    }
    reader = readers.get(path.suffix)
    if reader is None:
        raise W2SError(
            f"data file {path}: unsupported extension {path.suffix!r}; expected one of {sorted(readers)}"
        )
    try:
        return reader(path)
    except Exception as exc:  # polars raises several types; the user needs the file name either way
        raise W2SError(f"data file {path} could not be read as {path.suffix[1:]}: {exc}") from exc


class LocalFileSource(Source):
    """A jsonl/csv/parquet file with a text column and a 0/1 label column (names configurable)."""

    def __init__(self, path: str | Path, text_column: str = "text", label_column: str = "label"):
        self.path = Path(path)
        self.name = str(self.path)
        table = read_table(self.path)
        for column in (text_column, label_column):
            if column not in table.columns:
                raise W2SError(
                    f"data file {self.path}: missing column {column!r}; found columns {table.columns}"
                )
        self.labels = [
            self.label(value, row, label_column) for row, value in enumerate(table[label_column])
        ]
        texts = table[text_column].cast(pl.Utf8)
        empty = texts.is_null() | (texts.str.strip_chars() == "")
        if empty.any():
            raise W2SError(
                f"data file {self.path}: column {text_column!r} is empty in {int(empty.sum())} rows "
                f"(first: row {int(empty.arg_max())}); every example needs a text"
            )
        self.texts = texts.to_list()

    def label(self, value, row: int, column: str) -> int:
        """0/1, false/true, or 0.0/1.0: the label; anything else (including empty and NaN) names the row."""
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, (int, float)) and value in (0, 1):
            return int(value)
        if isinstance(value, str) and value.strip().lower() in (
            "0",
            "1",
            "true",
            "false",
            "0.0",
            "1.0",
        ):
            return int(value.strip().lower() in ("1", "true", "1.0"))
        raise W2SError(
            f"data file {self.path}: column {column!r} must hold labels 0 or 1; row {row} has {value!r}"
        )

    def __len__(self) -> int:
        return len(self.texts)

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        return self.texts[index], self.labels[index]


class SyntheticSentimentSource(Source):
    """A bag-of-words task that needs no download: is a text's positive-word count above its negative-word count?

    Texts are `length` words drawn from `vocab` words: a positive set, a negative set and neutral fillers. It is
    learnable from scratch by a tiny transformer, and larger ones learn it faster; it is a smoke-test task, not a
    model of latent knowledge.
    """

    def __init__(
        self,
        n_rows: int = 20000,
        length: int = 12,
        n_sentiment_words: int = 8,
        n_neutral_words: int = 32,
    ):
        self.name = "synthetic_sentiment"
        self.n_rows = n_rows
        self.length = length
        self.positive = [f"p{i}" for i in range(n_sentiment_words)]
        self.negative = [f"n{i}" for i in range(n_sentiment_words)]
        self.vocab = self.positive + self.negative + [f"w{i}" for i in range(n_neutral_words)]

    def __len__(self) -> int:
        return self.n_rows

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        while True:  # redraw ties so that every label is unambiguous
            words = rng.choices(self.vocab, k=self.length)
            score = sum(w[0] == "p" for w in words) - sum(w[0] == "n" for w in words)
            if score:
                return " ".join(words), int(score > 0)
