"""The classification family (w2s/data/tasks/classification.py): exact prompts and labels on fixture rows in each
dataset's own schema, label mappings over every row, and the label checks each card calls for."""

from __future__ import annotations

import json

import pytest
from task_helpers import SEEDS, examples, load, raw_rows

from w2s.data.hf_tasks import HFSource
from w2s.data.splits import row_rng
from w2s.errors import W2SError

pytestmark = pytest.mark.usefixtures("private_datasets_cache")

KINDS = ["glue_cola", "glue_sst2", "paws", "superglue_wic", "anli_r2", "twitter_sentiment"]


def expected(kind: str, row: dict) -> tuple[str, int]:
    """Each kind's prompt and binary label, restated here so that a change of either fails the tests."""
    if kind in ("glue_cola", "glue_sst2"):
        return row["sentence"], row["label"]
    if kind == "paws":
        return (
            f"Sent 1: {row['sentence1']}\nSent 2: {row['sentence2']}\n\n"
            "Q: Are these sentences semantically equivalent?",
            row["label"],
        )
    if kind == "superglue_wic":
        return (
            f"Sentence 1:\n{row['sentence1']}\n\nSentence 2:\n{row['sentence2']}\n\n"
            f'Q: Does "{row["word"]}" have the same meaning in the above sentences?',
            row["label"],
        )
    if kind == "anli_r2":  # entailment (0) against neutral (1) and contradiction (2)
        return (
            f"Premise: {row['premise']}\nHypothesis: {row['hypothesis']}\n\n"
            "Does the premise entail the hypothesis?",
            int(row["label"] == 0),
        )
    assert kind == "twitter_sentiment"
    return row["text"], row["label"]


def write_rows(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


# --- exact formats of known rows -----------------------------------------------------------------------------------


KNOWN = {
    "glue_cola": (2, "They drank the pub.", 0),
    "glue_sst2": (28, "a charming and often affecting journey . ", 1),
    "paws": (
        1,
        "Sent 1: The NBA season of 1975 -- 76 was the 30th season of the National Basketball Association .\n"
        "Sent 2: The 1975 -- 76 season of the National Basketball Association was the 30th season of the NBA"
        " .\n\nQ: Are these sentences semantically equivalent?",
        1,
    ),
    "superglue_wic": (
        5,
        "Sentence 1:\nHe sat on the bank of the river .\n\nSentence 2:\nShe deposited the money in the"
        ' bank .\n\nQ: Does "bank" have the same meaning in the above sentences?',
        0,
    ),
    "anli_r2": (
        3,
        "Premise: Lake Ohrid is a lake which straddles the mountainous border between the southwestern part"
        " of North Macedonia and eastern Albania.\nHypothesis: Lake Ohrid is partly in Albania.\n\n"
        "Does the premise entail the hypothesis?",
        1,
    ),
    "twitter_sentiment": (3, "I LOVE @Health4UandPets u guys r the best!! ", 1),
}


@pytest.mark.parametrize("kind", KINDS)
def test_known_row_text_and_label(kind):
    index, text, label = KNOWN[kind]
    assert load(kind).example(index, row_rng(0, index)) == (text, label)


@pytest.mark.parametrize("kind", KINDS)
def test_every_row_gives_its_own_text_and_label(kind):
    source, rows = load(kind), raw_rows(kind)
    for seed in SEEDS[:2]:  # the formats draw nothing at random: any seed gives the same
        got = [(text, label) for *_, text, label in examples(source, seed)]
        assert got == [expected(kind, row) for row in rows]
    assert {label for _, label in got} == {0, 1}


def test_anli_neutral_and_contradiction_both_become_label_0():
    by_class = {0: set(), 1: set(), 2: set()}
    for row, (*_, label) in zip(raw_rows("anli_r2"), examples(load("anli_r2"), 0), strict=True):
        by_class[row["label"]].add(label)
    assert by_class == {0: {1}, 1: {0}, 2: {0}}


def test_wic_fixture_spans_point_at_the_word():
    """The fixture keeps the card's character offsets honest: each span is a form of the target word."""
    for row in raw_rows("superglue_wic"):
        for n in (1, 2):
            sentence = row[f"sentence{n}"]
            form = sentence[row[f"start{n}"] : row[f"end{n}"]]
            assert form in sentence.split() and form[0].lower() == row["word"][0], (row, form)


# --- label checks --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["glue_cola", "glue_sst2", "superglue_wic"])
def test_rows_the_card_marks_unlabelled_are_dropped_and_counted(kind, tmp_path):
    """GLUE and SuperGLUE test splits give label -1: such rows are left out and counted, never formatted."""
    rows = raw_rows(kind)
    hidden = [{**row, "label": -1} for row in rows[:3]]
    source = HFSource(kind, {"data_files": write_rows(tmp_path / f"{kind}.jsonl", rows + hidden)})
    assert len(source) == len(rows) and source.dropped == {"unlabelled_rows": 3}
    assert set(source.rows["label"]) == {0, 1}


@pytest.mark.parametrize(
    ("kind", "bad"),
    [
        ("glue_cola", 2),
        ("glue_sst2", 4),
        ("paws", -1),
        ("superglue_wic", 2),
        ("anli_r2", 3),
        ("anli_r2", -1),
        ("twitter_sentiment", 4),
        ("twitter_sentiment", 2),
    ],
)
def test_labels_outside_the_card_are_an_error(kind, bad, tmp_path):
    """-1 is an error where the card has no hidden-label split; 4 is Sentiment140's own "positive", 2 its
    "neutral": neither may pass as a label of this dataset."""
    rows = raw_rows(kind)
    rows[0]["label"] = rows[5]["label"] = bad
    path = write_rows(tmp_path / f"{kind}_bad.jsonl", rows)
    with pytest.raises(
        W2SError,
        match=rf"dataset {kind} \(.*{kind}_bad.jsonl\): 2 of {len(rows)} rows have a 'label'",
    ):
        HFSource(kind, {"data_files": path})
