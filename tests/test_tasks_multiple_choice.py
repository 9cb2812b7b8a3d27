"""The multiple-choice tasks (w2s/data/tasks/multiple_choice.py), loaded from fixtures in each dataset's hub schema:
exact prompts, label 1 showing the right answer and label 0 a wrong one, groups, and label validation."""

from __future__ import annotations

import json

import pytest
from task_helpers import FIXTURES, SEEDS, examples, first_with_label, load, raw_rows

from w2s.data.hf_tasks import HFSource
from w2s.data.splits import row_rng
from w2s.errors import W2SError

pytestmark = pytest.mark.usefixtures("private_datasets_cache")


# Each kind's prompt around a candidate answer, its right answer and its candidates, written from the dataset card
# independently of the module: a change to the prompt, the label mapping or the choice of answer fails below.
def _choice_text(row, letter):
    return row["choices"]["text"][row["choices"]["label"].index(letter)]


SPECS = {
    "dream": (
        lambda row, a: "\n".join(row["dialogue"]) + f"\n\nQ: {row['question']} A: {a}",
        lambda row: row["answer"],
        lambda row: row["choice"],
    ),
    "hellaswag": (
        lambda row, a: f'Context:\n{row["ctx"]}\n\nQ: Is "{a}" the best continuation?',
        lambda row: row["endings"][int(row["label"])],
        lambda row: row["endings"],
    ),
    "openbookqa": (
        lambda row, a: f"Q: {row['question_stem']} A: {a}",
        lambda row: _choice_text(row, row["answerKey"]),
        lambda row: row["choices"]["text"],
    ),
    "quail": (
        lambda row, a: (
            f'Passage:\n\n{row["context"]}\n\nQ: "{row["question"]}" Is the answer "{a}"?'
        ),
        lambda row: row["answers"][row["correct_answer_id"]],
        lambda row: row["answers"],
    ),
    "piqa": (
        lambda row, a: f"Q: {row['goal']} A: {a}",
        lambda row: row[f"sol{row['label'] + 1}"],
        lambda row: [row["sol1"], row["sol2"]],
    ),
    "quartz": (
        lambda row, a: f'Passage:\n{row["para"]}\n\nQ: "{row["question"]}" Is the answer "{a}"?',
        lambda row: _choice_text(row, row["answerKey"]),
        lambda row: row["choices"]["text"],
    ),
    "social_i_qa": (
        lambda row, a: (
            f'Context:\n{row["context"]}\n\nQuestion: "{row["question"]}"\n\nIs the answer "{a}"?'
        ),
        lambda row: row["answer" + "ABC"[int(row["label"]) - 1]],
        lambda row: [row["answerA"], row["answerB"], row["answerC"]],
    ),
}


# --- exact prompts of known rows -----------------------------------------------------------------------------------

KNOWN = {  # kind: (row, prompt with "{}" for the answer, the answer with label 1, the answers label 0 may show)
    "dream": (
        1,
        "M: This soup is too salty.\nW: Sorry, I'll ask the cook to make you another bowl.\n\n"
        "Q: Where does the conversation most probably take place? A: {}",
        "In a restaurant.",
        ["In a shop.", "At home."],
    ),
    "hellaswag": (
        18,
        "Context:\n[header] How to clean a cast iron pan [title] Rinse the pan with hot water. [step] Avoid soap, "
        'which strips the seasoning.\n\nQ: Is "{}" the best continuation?',
        "[title] Dry the pan completely on the stove. [step] Water left on the iron will make it rust.",
        [
            "[title] Put the pan in the dishwasher. [step] Use the hottest cycle.",
            "[title] Paint the pan. [step] Any color works.",
            "[title] Sell the pan. [step] Buy a new one.",
        ],
    ),
    "openbookqa": (
        3,
        "Q: A magnet will stick to A: {}",
        "an iron nail",
        ["a wooden door", "a glass window", "a rubber ball"],
    ),
    "quail": (
        4,
        "Passage:\n\nMara lit the lighthouse lamp every evening. One night it would not catch, and a ship's horn "
        "sounded near the rocks. She took her brother's lantern and waved it from the pier until the ship turned "
        'away.\n\nQ: "What color was the ship?" Is the answer "{}"?',
        "not enough information",
        ["red", "white", "black"],
    ),
    "piqa": (
        7,
        "Q: To open a tight jar lid, A: {}",
        "run the lid under hot water for a minute.",
        ["run the lid under cold water."],
    ),
    "quartz": (
        0,
        "Passage:\nStronger winds make bigger waves.\n\n"
        'Q: "If the wind dies down, the waves will become" Is the answer "{}"?',
        "smaller",
        ["bigger"],
    ),
    "social_i_qa": (
        1,
        "Context:\nJan needed to give out jobs for an upcoming project at work.\n\n"
        'Question: "What will Others want to do next?"\n\nIs the answer "{}"?',
        "get to work",
        ["disagree with Jan", "argue with the assignments"],
    ),
}


@pytest.mark.parametrize("kind", sorted(KNOWN))
def test_known_row_format(kind):
    index, template, correct, wrong = KNOWN[kind]
    source = load(kind)
    assert first_with_label(source, index, 1) == template.format(correct)
    assert first_with_label(source, index, 0) in {template.format(w) for w in wrong}


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_label_1_shows_the_right_answer_and_label_0_a_wrong_one(kind):
    prompt, correct, candidates = SPECS[kind]
    source, seen = load(kind), set()
    for seed in SEEDS:
        for _, row, text, label in examples(source, seed):
            right = correct(row)
            if label:
                assert text == prompt(row, right)
            else:
                assert text in {prompt(row, a) for a in candidates(row) if a != right}
            seen.add(label)
    assert seen == {0, 1}


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_label_0_draws_every_wrong_answer(kind):
    """Label 0 picks among all wrong answers, not always the same one."""
    prompt, correct, candidates = SPECS[kind]
    source = load(kind)
    row = source.rows[0]
    drawn = [source.example(0, row_rng(seed, 0)) for seed in range(60)]
    wrong = {prompt(row, a) for a in candidates(row) if a != correct(row)}
    assert {text for text, label in drawn if label == 0} == wrong


# --- groups --------------------------------------------------------------------------------------------------------


def test_hellaswag_groups_by_source_dataset():
    source = load("hellaswag")
    groups = [source.group(i) for i in range(len(source))]
    assert set(groups) == {"activitynet", "wikihow"}
    assert all(
        g == row["source_id"].split("~")[0]
        for g, row in zip(groups, raw_rows("hellaswag"), strict=True)
    )


def test_quail_groups_by_question_type():
    source = load("quail")
    assert [source.group(i) for i in range(len(source))] == [
        row["question_type"] for row in raw_rows("quail")
    ]
    assert {source.group(i) for i in range(len(source))} == {
        "Belief_states",
        "Causality",
        "Character_identity",
        "Entity_properties",
        "Event_duration",
        "Factual",
        "Subsequent_state",
        "Temporal_order",
        "Unanswerable",
    }


@pytest.mark.parametrize("kind", ["dream", "openbookqa", "piqa", "quartz", "social_i_qa"])
def test_kinds_without_a_natural_subgroup_are_one_group(kind):
    source = load(kind)
    assert {source.group(i) for i in range(len(source))} == {"all"}


# --- label validation ----------------------------------------------------------------------------------------------


def _write(tmp_path, kind, rows):
    path = tmp_path / f"{kind}_edited.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize(("kind", "hidden"), [("hellaswag", ""), ("piqa", -1)])
def test_rows_the_card_marks_unlabelled_are_dropped_and_counted(tmp_path, kind, hidden):
    """HellaSwag's and PIQA's test splits hide their labels ("" and -1); formatting one would show a wrong answer
    as the right one."""
    rows = raw_rows(kind)
    path = _write(tmp_path, kind, rows + [{**row, "label": hidden} for row in rows[:3]])
    source = HFSource(kind, {"data_files": str(path)})
    assert len(source) == len(rows) and source.dropped == {"unlabelled_rows": 3}


@pytest.mark.parametrize(
    ("kind", "column", "bad"),
    [
        ("hellaswag", "label", "4"),
        ("openbookqa", "answerKey", "E"),
        ("quail", "correct_answer_id", 4),
        ("piqa", "label", 2),
        ("quartz", "answerKey", "C"),
        ("social_i_qa", "label", "0"),
    ],
)
def test_labels_outside_the_card_are_an_error(tmp_path, kind, column, bad):
    rows = raw_rows(kind)
    rows[2][column] = bad
    path = _write(tmp_path, kind, rows)
    with pytest.raises(
        W2SError,
        match=rf"dataset {kind} \(.*{path.name}\): 1 of {len(rows)} rows have a '{column}'",
    ):
        HFSource(kind, {"data_files": str(path)})


def test_dream_answer_not_among_the_choices_is_an_error(tmp_path):
    rows = raw_rows("dream")
    rows[0]["answer"] = "He missed the bus."
    source = HFSource("dream", {"data_files": str(_write(tmp_path, "dream", rows))})
    with pytest.raises(
        W2SError, match=r"dataset dream: row id 0: answer 'He missed the bus.' is not one of"
    ):
        source.example(0, row_rng(0, 0))


def test_fixtures_use_the_hub_label_encodings():
    """The fixtures keep each card's encoding: string digits (HellaSwag, Social IQa), letters (OpenBookQA, QuaRTz),
    ints (QuAIL, PIQA), answer text (DREAM)."""
    assert all(
        isinstance(row["label"], str) for row in raw_rows("hellaswag") + raw_rows("social_i_qa")
    )
    assert all(
        row["answerKey"] in row["choices"]["label"]
        for row in raw_rows("openbookqa") + raw_rows("quartz")
    )
    assert all(isinstance(row["correct_answer_id"], int) for row in raw_rows("quail"))
    assert all(row["label"] in (0, 1) for row in raw_rows("piqa"))
    assert all(row["answer"] in row["choice"] for row in raw_rows("dream"))
    assert {p.stem for p in FIXTURES.glob("*.jsonl")} >= set(SPECS)
