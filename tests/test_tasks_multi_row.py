"""MC-TACO and MultiRC: one row per candidate answer, several rows per question, loaded from fixtures in the hub's
schema; a question's candidates never straddle two splits."""

from __future__ import annotations

from collections import Counter

import pytest
from task_helpers import SEEDS, examples, load, raw_rows

from w2s.data.hf_tasks import HF_TASKS
from w2s.data.splits import row_rng, sample_splits
from w2s.data.tasks.multi_row import multirc_passage

pytestmark = pytest.mark.usefixtures("private_datasets_cache")

MULTI_ROW = ["mc_taco", "superglue_multirc"]
CATEGORIES = ["Event Duration", "Event Ordering", "Frequency", "Typical Time", "Stationarity"]


def mc_taco_text(row: dict) -> str:
    return f"{row['sentence']}\n\nGiven the above, {row['question']} Is the answer {row['answer']}?"


def multirc_text(row: dict) -> str:
    passage = multirc_passage(row["paragraph"])
    return f'Passage:\n\n{passage}\n\nQ: "{row["question"]}" Is the answer "{row["answer"]}"?'


def test_hub_ids_and_labelled_splits():
    mc_taco, multirc = HF_TASKS["mc_taco"], HF_TASKS["superglue_multirc"]
    assert (mc_taco.source, mc_taco.subset, mc_taco.splits) == (
        "CogComp/mc_taco",
        None,
        ("validation", "test"),
    )
    assert mc_taco.revision == "refs/convert/parquet"
    assert (multirc.source, multirc.subset, multirc.splits) == (
        "aps/super_glue",
        "multirc",
        ("train", "validation"),
    )
    assert multirc.unlabelled == -1


def test_mc_taco_known_row():
    assert load("mc_taco").example(0, row_rng(0, 0)) == (
        "Mary spent the afternoon baking bread for the school fair.\n\n"
        "Given the above, How long did it take Mary to bake the bread? Is the answer 3 hours?",
        1,
    )


def test_multirc_known_row():
    passage = (
        "Maria moved to Chicago in 2010 to study music. She played the violin in a small orchestra on weekends. "
        "After graduating, she became a music teacher at a high school."
    )
    assert load("superglue_multirc").example(1, row_rng(0, 1)) == (
        f'Passage:\n\n{passage}\n\nQ: "Why did Maria move to Chicago?" Is the answer "To play soccer"?',
        0,
    )


def test_multirc_passage_drops_the_annotation_markup():
    paragraph = raw_rows("superglue_multirc")[0]["paragraph"]
    assert (
        paragraph.startswith("<b>Sent 1: </b>Maria moved") and paragraph.count("<br>") == 3
    )  # as the hub has it
    assert multirc_passage(paragraph) == (
        "Maria moved to Chicago in 2010 to study music. She played the violin in a small orchestra on weekends. "
        "After graduating, she became a music teacher at a high school."
    )
    assert multirc_passage("No markup here.") == "No markup here."
    for index in range(len(load("superglue_multirc"))):
        text, _ = load("superglue_multirc").example(index, row_rng(0, index))
        assert "<b>" not in text and "<br>" not in text and "Sent 1" not in text


def test_items_name_the_kept_rows_where_some_rows_are_unlabelled(tmp_path):
    """Rows dropped as unlabelled must leave the items aligned with the rows kept, not with the file's rows."""
    import json

    from w2s.data.hf_tasks import HFSource

    rows = raw_rows("superglue_multirc")
    hidden = {0, 5, 11}
    mixed = [{**row, "label": -1} if i in hidden else row for i, row in enumerate(rows)]
    path = tmp_path / "multirc_partly_unlabelled.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in mixed))
    source = HFSource("superglue_multirc", {"data_files": str(path)})
    kept = [row for i, row in enumerate(rows) if i not in hidden]
    assert source.dropped == {"unlabelled_rows": len(hidden)}
    assert source.items() == [(row["paragraph"],) for row in kept]
    assert [source.rows[i]["answer"] for i in range(len(source))] == [row["answer"] for row in kept]


@pytest.mark.parametrize(
    ("kind", "template"), [("mc_taco", mc_taco_text), ("superglue_multirc", multirc_text)]
)
def test_every_row_is_its_own_candidate_with_its_own_label(kind, template):
    rows = raw_rows(kind)
    for seed in (0, 1):
        for row, (_, _, text, label) in zip(rows, examples(load(kind), seed), strict=True):
            assert (text, label) == (template(row), row["label"])
    assert 0.4 <= sum(r["label"] for r in rows) / len(rows) <= 0.6


def test_fixtures_have_contexts_with_both_labels():
    for kind in MULTI_ROW:
        items = load(kind).items()
        labels: dict = {}
        for item, row in zip(items, raw_rows(kind), strict=True):
            labels.setdefault(item, set()).add(row["label"])
        assert len(labels) >= 7 and sum(ls == {0, 1} for ls in labels.values()) >= 6


def test_mc_taco_groups_are_the_card_category_names():
    source = load("mc_taco")
    groups = [source.group(i) for i in range(len(source))]
    assert groups == [CATEGORIES[row["category"]] for row in raw_rows("mc_taco")]
    assert set(groups) == set(CATEGORIES)
    assert {
        load("superglue_multirc").group(i) for i in range(len(raw_rows("superglue_multirc")))
    } == {"all"}


def test_multirc_items_are_named_by_text_not_by_per_split_idx():
    items = load("superglue_multirc").items()
    assert items == [(row["paragraph"],) for row in raw_rows("superglue_multirc")]


def test_multirc_hidden_test_labels_are_dropped(tmp_path):
    import json

    from w2s.data.hf_tasks import HFSource

    rows = raw_rows("superglue_multirc")
    path = tmp_path / "multirc_with_test.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows + [{**rows[0], "label": -1}]))
    source = HFSource("superglue_multirc", {"data_files": str(path)})
    assert len(source) == len(rows) and source.dropped == {"unlabelled_rows": 1}


@pytest.mark.parametrize("kind", MULTI_ROW)
@pytest.mark.parametrize("seed", SEEDS)
def test_sample_splits_keep_each_contexts_questions_and_candidates_in_one_split(kind, seed):
    source, sizes = load(kind), {"weak_train": 6, "strong_train": 4, "test": 5}
    splits, _ = sample_splits(source, kind, sizes, seed)
    items = source.items()
    split_of: dict = {}
    rows_of = Counter()
    for name, frame in splits.items():
        labels = Counter(frame["label"].to_list())
        assert frame.height == sizes[name]
        assert (labels[0], labels[1]) == (sizes[name] // 2, sizes[name] - sizes[name] // 2)
        for row_id in frame["id"]:
            item = items[int(row_id.split(":")[1])]
            assert split_of.setdefault(item, name) == name, f"{item} in {split_of[item]} and {name}"
            rows_of[item] += 1
    assert (
        max(rows_of.values()) > 1
    )  # some question has several candidates drawn: the grouping is exercised
