"""Local files and the synthetic task: reading, validation, and seeded balanced splits."""

from __future__ import annotations

import polars as pl
import pytest

from w2s.data.registry import make_source
from w2s.data.sources import LocalFileSource, Source, SyntheticSentimentSource
from w2s.data.splits import row_rng, sample_splits
from w2s.errors import W2SError

SIZES = {"weak_train": 10, "strong_train": 10, "test": 6}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_local_file_with_custom_columns(tmp_path, suffix):
    frame = pl.DataFrame(
        {"review": [f"text {i}" for i in range(30)], "positive": [i % 2 for i in range(30)]}
    )
    path = tmp_path / f"data{suffix}"
    {".jsonl": frame.write_ndjson, ".csv": frame.write_csv, ".parquet": frame.write_parquet}[
        suffix
    ](path)
    source = make_source(
        "mine",
        {
            "kind": "local",
            "options": {"path": str(path), "text_column": "review", "label_column": "positive"},
        },
    )
    assert len(source) == 30 and source.example(3, row_rng(0, 3)) == ("text 3", 1)


def test_local_file_boolean_labels(tmp_path):
    path = tmp_path / "data.jsonl"
    pl.DataFrame({"text": ["a", "b"], "label": [True, False]}).write_ndjson(path)
    assert LocalFileSource(path).labels == [1, 0]


def test_local_file_missing_label_is_named(tmp_path):
    path = tmp_path / "data.jsonl"
    pl.DataFrame({"text": ["a", "b", "c"], "label": [1, None, 0]}).write_ndjson(path)
    with pytest.raises(
        W2SError, match=r"data\.jsonl: column 'label' must hold labels 0 or 1; row 1 has None"
    ):
        LocalFileSource(path)


def test_unknown_option_names_the_key():
    with pytest.raises(W2SError, match=r"datasets\.toy\.options"):
        make_source("toy", {"kind": "synthetic", "options": {"n_rowz": 10}})


def test_unsupported_extension_is_named(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("hello")
    with pytest.raises(W2SError, match=r"data\.txt: unsupported extension"):
        LocalFileSource(path)


def test_splits_disjoint_balanced_and_seeded():
    source = SyntheticSentimentSource(n_rows=500, length=6)
    first, _ = sample_splits(source, "toy", SIZES, seed=3)
    again, _ = sample_splits(source, "toy", SIZES, seed=3)
    other, _ = sample_splits(source, "toy", SIZES, seed=4)
    assert all(first[s].equals(again[s]) for s in SIZES)
    assert not first["test"].equals(other["test"])
    ids = [set(first[s]["id"]) for s in SIZES]
    assert sum(map(len, ids)) == len(set.union(*ids)) == 26
    assert {s: (first[s].height, int(first[s]["label"].sum())) for s in SIZES} == {
        "weak_train": (10, 5),
        "strong_train": (10, 5),
        "test": (6, 3),
    }


def test_splits_are_random_rows_not_the_first_ones():
    source = SyntheticSentimentSource(n_rows=10_000, length=6)
    splits, _ = sample_splits(source, "toy", SIZES, seed=0)
    rows = [int(i.split(":")[1]) for s in SIZES for i in splits[s]["id"]]
    assert max(rows) > 1000  # the first 26 balanced rows would all sit near the start


def test_ids_are_stable_across_seeds(tmp_path):
    """An id names one source row whatever the seed: every seed that draws it shows the same text."""
    path = tmp_path / "data.csv"
    pl.DataFrame(
        {"text": [f"row {i}" for i in range(40)], "label": [i % 2 for i in range(40)]}
    ).write_csv(path)
    source = LocalFileSource(path)
    for seed in range(3):
        for row in sample_splits(source, "mine", {"a": 10}, seed)[0]["a"].iter_rows(named=True):
            assert row["id"] == f"mine:{row['text'].split()[1]}"


def test_duplicate_texts_never_land_in_two_splits(tmp_path):
    """A source that repeats rows (as pooled splits of a dataset often do) gives splits with disjoint texts; the
    skipped repeats are counted, including a repeat with the other label."""
    texts = [f"statement {i}" for i in range(40)]
    labels = [i % 2 for i in range(40)]
    path = tmp_path / "dupes.csv"
    rows = {
        "text": texts * 3 + ["statement 0"],
        "label": labels * 3 + [1],
    }  # the last one contradicts row 0
    pl.DataFrame(rows).write_csv(path)
    sizes = {"weak_train": 10, "strong_train": 10, "test": 10}
    splits, duplicates = sample_splits(LocalFileSource(path), "dupes", sizes, seed=0)
    drawn = [text for frame in splits.values() for text in frame["text"]]
    assert len(drawn) == 30 and len(set(drawn)) == 30
    assert duplicates > 0
    with pytest.raises(W2SError, match="repeat another row's text"):
        sample_splits(
            LocalFileSource(path),
            "dupes",
            {"weak_train": 20, "strong_train": 20, "test": 10},
            seed=0,
        )


class CandidateAnswers(Source):
    """Questions of 4 candidate answers each, one row per candidate (1 right, 3 wrong): items that span rows."""

    name = "candidates"

    def __init__(self, n_questions: int):
        self.rows = [(q, c) for q in range(n_questions) for c in range(4)]

    def __len__(self) -> int:
        return len(self.rows)

    def example(self, index: int, rng) -> tuple[str, int]:
        question, candidate = self.rows[index]
        return f"question {question} answer {candidate}", int(candidate == 0)

    def items(self) -> list:
        return [question for question, _ in self.rows]


@pytest.mark.parametrize("seed", range(5))
def test_rows_of_one_source_item_never_straddle_splits(seed):
    source = CandidateAnswers(60)
    sizes = {"weak_train": 10, "strong_train": 12, "test": 9}
    splits, _ = sample_splits(source, "mc", sizes, seed)
    questions = {}
    for name, frame in splits.items():
        labels = frame["label"].to_list()
        assert (frame.height, labels.count(1)) == (sizes[name], sizes[name] - sizes[name] // 2)
        for row_id in frame["id"]:
            questions.setdefault(source.rows[int(row_id.split(":")[1])][0], set()).add(name)
    assert all(len(names) == 1 for names in questions.values())
    # the drawing is still random: the first questions of the source are not the ones drawn
    assert set(questions) != set(range(len(questions)))


def test_too_few_items_is_an_error_naming_the_items():
    with pytest.raises(W2SError, match="that fit their items' splits"):
        sample_splits(
            CandidateAnswers(8), "mc", {"weak_train": 10, "strong_train": 10, "test": 10}, 0
        )
