"""The Hugging Face tasks, loaded through the real `datasets.load_dataset` path from fixtures in each dataset's
schema."""

from __future__ import annotations

import json

import pytest
from task_helpers import FIXTURES, SEEDS, examples, first_with_label, fixture, load, raw_rows

from w2s.data.hf_tasks import HF_TASKS, HFSource
from w2s.data.registry import make_source
from w2s.data.splits import row_rng, sample_splits
from w2s.errors import W2SError

pytestmark = pytest.mark.usefixtures("private_datasets_cache")

TASKS = sorted(HF_TASKS)
NONE_OF_THE_ABOVE = "None of the above choices ."


# --- fixtures and loading ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_fixture_loads_in_own_schema(task):
    source = load(task)
    assert len(source) == len(raw_rows(task)) >= 30
    assert set(HF_TASKS[task].columns) <= set(source.rows.column_names)
    assert fixture(task).stat().st_size < 24_000


@pytest.mark.parametrize("task", ["boolq", "amazon_polarity"])
def test_fixed_label_fixtures_are_roughly_balanced(task):
    labels = [label for *_, label in examples(load(task), 0)]
    assert 0.4 <= sum(labels) / len(labels) <= 0.6


# --- exact formats of known rows -----------------------------------------------------------------------------------


def test_sciq_format():
    source = load("sciq")
    question = (
        "What type of organism is commonly used in preparation of foods such as cheese and yogurt?"
    )
    assert first_with_label(source, 0, 1) == f"Q: {question} A: mesophilic organisms"
    assert first_with_label(source, 0, 0) in {
        f"Q: {question} A: {d}" for d in ("viruses", "protozoa", "gymnosperms")
    }


def test_sciq_label_1_shows_correct_answer_and_label_0_a_distractor():
    source, seen = load("sciq"), set()
    for seed in SEEDS:
        for _, row, text, label in examples(source, seed):
            prefix = f"Q: {row['question']} A: "
            assert text.startswith(prefix)
            shown = text[len(prefix) :]
            if label:
                assert shown == row["correct_answer"]
            else:
                assert shown in {row["distractor1"], row["distractor2"], row["distractor3"]}
            seen.add(label)
    assert seen == {0, 1}


def test_boolq_format_and_labels():
    source = load("boolq")
    text, label = source.example(0, row_rng(0, 0))
    assert text == (
        "Passage: Persian, also known by its endonym Farsi, is spoken in Iran, Afghanistan (officially known as Dari)"
        " and Tajikistan (officially known as Tajik).\nQuestion: do iran and afghanistan speak the same language"
    )
    assert label == 1
    for row, (_, _, text, label) in zip(raw_rows("boolq"), examples(source, 0)):
        assert text == f"Passage: {row['passage']}\nQuestion: {row['question']}"
        assert label == int(row["answer"])


def test_cosmos_qa_format():
    source = load("cosmos_qa")
    row = raw_rows("cosmos_qa")[2]
    expected = (
        f"Context: {row['context']}\nQuestion: Why was the narrator 's sister upset ?\nAnswer: "
    )
    assert first_with_label(source, 2, 1) == expected + "Her cat had gone missing ."
    assert first_with_label(source, 2, 0) in {
        expected + a
        for a in (
            "She had lost her job .",
            "She had an argument with the narrator .",
            NONE_OF_THE_ABOVE,
        )
    }


def test_cosmos_qa_label_1_shows_correct_answer_and_label_0_another():
    source, seen = load("cosmos_qa"), set()
    for seed in SEEDS:
        for _, row, text, label in examples(source, seed):
            prefix = f"Context: {row['context']}\nQuestion: {row['question']}\nAnswer: "
            assert text.startswith(prefix)
            shown, answers = text[len(prefix) :], [row[f"answer{i}"] for i in range(4)]
            true_answer = answers[row["label"]]
            if label:
                assert shown == true_answer
            else:
                assert shown in answers and shown != true_answer
            seen.add(label)
    assert seen == {0, 1}


def test_cosmos_qa_none_of_the_above_rows_get_label_0():
    source = load("cosmos_qa")
    nota = [
        i
        for i, row in enumerate(raw_rows("cosmos_qa"))
        if row[f"answer{row['label']}"] == NONE_OF_THE_ABOVE
    ]
    assert len(nota) >= 1
    for seed in range(20):
        for index in nota:
            text, label = source.example(index, row_rng(seed, index))
            assert label == 0
            assert not text.endswith(NONE_OF_THE_ABOVE)


def test_amazon_polarity_format_and_labels():
    source = load("amazon_polarity")
    assert source.example(0, row_rng(0, 0)) == (
        "Stuning even for the non-gamer This sound track was beautiful! It paints the senery in your mind so well"
        " I would recomend it even to people who hate vid. game music!",
        1,
    )
    for row, (_, _, text, label) in zip(raw_rows("amazon_polarity"), examples(source, 0)):
        assert (text, label) == (f"{row['title']} {row['content']}", row["label"])


def test_anthropic_hh_single_format_shows_chosen_for_1_rejected_for_0():
    source, seen = load("anthropic_hh", format="single"), set()
    for seed in SEEDS:
        for _, row, text, label in examples(source, seed):
            assert text == (row["chosen"] if label else row["rejected"])
            seen.add(label)
    assert seen == {0, 1}


def test_anthropic_hh_pair_format_known_row():
    source = load("anthropic_hh", format="pair")
    dialogue = "Human: What's the capital of Canada?"
    chosen = "Assistant: The capital of Canada is Ottawa, in the province of Ontario."
    rejected = "Assistant: Toronto."
    index = next(i for i, row in enumerate(raw_rows("anthropic_hh")) if dialogue in row["chosen"])
    ask = "\n\nIs response A better?"
    assert (
        first_with_label(source, index, 1)
        == f"{dialogue}\n\nResponse A: {chosen}\n\nResponse B: {rejected}{ask}"
    )
    assert (
        first_with_label(source, index, 0)
        == f"{dialogue}\n\nResponse A: {rejected}\n\nResponse B: {chosen}{ask}"
    )


def test_anthropic_hh_pair_format_shows_dialogue_once_and_chosen_first_iff_label_1():
    source, seen = load("anthropic_hh"), set()  # "pair" is the default format
    for seed in SEEDS:
        for _, row, text, label in examples(source, seed):
            split = row["chosen"].rfind("\n\nAssistant:")
            dialogue, chosen, rejected = (
                row["chosen"][:split],
                row["chosen"][split:],
                row["rejected"][split:],
            )
            assert (
                row["rejected"].startswith(dialogue) and chosen != rejected
            )  # what the fixture promises
            first_turn = dialogue.split("\n\n")[1]
            assert text.startswith(dialogue.strip() + "\n\nResponse A: ")
            assert text.count(first_turn) == 1
            first, second = (chosen, rejected) if label else (rejected, chosen)
            expected = f"Response A: {first.strip()}\n\nResponse B: {second.strip()}\n\nIs response A better?"
            assert text.endswith(expected)
            seen.add(label)
    assert seen == {0, 1}


def test_anthropic_hh_pair_does_not_cut_a_human_turn_that_rejected_extends(tmp_path):
    # chosen's dialogue is a string prefix of rejected's, but rejected's human turn goes on: nothing is shared.
    row = {
        "chosen": "\n\nHuman: Is it ok to eat\n\nAssistant: Sure.",
        "rejected": "\n\nHuman: Is it ok to eat raw eggs?\n\nAssistant: It's safer not to.",
    }
    path = tmp_path / "hh.jsonl"
    path.write_text(json.dumps(row) + "\n")
    source = HFSource("anthropic_hh", {"data_files": str(path)})
    for seed in SEEDS:
        text, label = source.example(0, row_rng(seed, 0))
        assert row["chosen"].strip() in text and row["rejected"].strip() in text
        assert (text.index(row["chosen"].strip()) < text.index(row["rejected"].strip())) == bool(
            label
        )


def test_anthropic_hh_unknown_format_is_an_error():
    with pytest.raises(W2SError, match="options.format"):
        HFSource(
            "anthropic_hh", {"data_files": str(FIXTURES / "anthropic_hh.jsonl"), "format": "triple"}
        )


# --- determinism and splits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_formatting_is_deterministic_given_row_rng(task):
    source = load(task)
    for seed in (0, 1, 12345):
        first = [source.example(i, row_rng(seed, i)) for i in range(len(source))]
        # Same rows again, in reverse order: a row's formatting depends on (seed, row) only.
        again = [source.example(i, row_rng(seed, i)) for i in reversed(range(len(source)))][::-1]
        assert first == again


SIZES = {"weak_train": 8, "strong_train": 6, "test": 7}


@pytest.mark.parametrize("task", TASKS)
def test_sample_splits_are_disjoint_and_class_balanced(task):
    source = load(task)
    for seed in (0, 1):
        splits, _ = sample_splits(source, task, SIZES, seed)
        assert list(splits) == list(SIZES)
        ids = []
        for name, frame in splits.items():
            n = SIZES[name]
            assert frame.height == n
            labels = frame["label"].to_list()
            assert (labels.count(0), labels.count(1)) == (n // 2, n - n // 2)
            for row_id, *texts, label, group in frame.iter_rows():
                index = int(row_id.removeprefix(f"{task}:"))
                text = tuple(texts) if source.pairs else texts[0]  # a comparison's three texts
                assert source.example(index, row_rng(seed, index)) == (text, label)
                assert group == source.group(index)
            ids += frame["id"].to_list()
        assert len(ids) == len(set(ids)) == sum(SIZES.values())
        items = source.items()
        if items is not None:  # no source item straddles two splits
            item_splits = [{items[int(i.split(":")[1])] for i in f["id"]} for f in splits.values()]
            assert not (
                item_splits[0] & item_splits[1]
                or item_splits[0] & item_splits[2]
                or item_splits[1] & item_splits[2]
            )


# --- errors --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_missing_required_column_is_named(task, tmp_path):
    column = HF_TASKS[task].columns[-1]
    path = tmp_path / f"{task}.jsonl"
    path.write_text(
        "".join(
            json.dumps({k: v for k, v in row.items() if k != column}) + "\n"
            for row in raw_rows(task)
        )
    )
    with pytest.raises(W2SError, match=f"missing column.*'{column}'"):
        HFSource(task, {"data_files": str(path)})


def test_missing_data_file_is_named(tmp_path):
    path = tmp_path / "nowhere" / "sciq.jsonl"
    with pytest.raises(W2SError) as info:
        HFSource("sciq", {"data_files": str(path)})
    assert str(path) in str(info.value)
    with pytest.raises(W2SError) as info:
        files = [str(FIXTURES / "sciq.jsonl"), str(path)]
        make_source("sciq_local", {"kind": "sciq", "options": {"data_files": files}})
    assert str(path) in str(info.value)


def test_make_source_builds_hf_tasks_from_data_files():
    source = make_source(
        "mine", {"kind": "boolq", "options": {"data_files": str(FIXTURES / "boolq.jsonl")}}
    )
    assert isinstance(source, HFSource) and len(source) == len(raw_rows("boolq"))


@pytest.mark.parametrize("kind", ["nonsense", "SciQ", "hf"])
def test_unknown_kind_names_the_config_key(kind):
    with pytest.raises(W2SError, match=r"datasets\.my_data\.kind") as info:
        make_source("my_data", {"kind": kind})
    assert repr(kind) in str(info.value)


def test_cosmos_qa_rows_the_card_marks_unlabelled_are_dropped_and_counted(tmp_path):
    """cosmos_qa's test split gives label -1 (hidden): such rows are left out, with a count; formatting one would
    silently show answer3 as the right answer."""
    rows = raw_rows("cosmos_qa")
    hidden = [{**row, "label": -1} for row in rows[:3]]
    path = tmp_path / "cosmos_qa_with_hidden.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows + hidden))
    source = HFSource("cosmos_qa", {"data_files": str(path)})
    assert len(source) == len(rows) and source.dropped == {"unlabelled_rows": 3}
    assert all(label in (0, 1, 2, 3) for label in source.rows["label"])


@pytest.mark.parametrize(
    ("task", "column", "bad"),
    [("cosmos_qa", "label", 7), ("amazon_polarity", "label", 2), ("boolq", "answer", None)],
)
def test_labels_out_of_range_are_an_error_naming_dataset_file_and_count(
    tmp_path, task, column, bad
):
    rows = raw_rows(task)
    rows[1][column] = rows[4][column] = bad
    path = tmp_path / f"{task}_bad.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(
        W2SError,
        match=rf"dataset {task} \(.*{path.name}\): 2 of {len(rows)} rows have a '{column}'",
    ):
        HFSource(task, {"data_files": str(path)})
