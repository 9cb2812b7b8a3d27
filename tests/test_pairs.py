"""Comparison tasks (w2s.data.pairs): hh-rlhf transcripts split at their last shared assistant turn, SHP's posts and
comments, the world's preferences; the preferred completion's position drawn per row with the seed; ties and rows
with nothing to compare dropped and counted."""

from __future__ import annotations

import json

import pytest
from task_helpers import SEEDS, load, raw_rows

from w2s.data.hf_tasks import HFSource
from w2s.data.splits import row_rng, sample_splits
from w2s.data.tasks.comparisons import split_transcripts
from w2s.data.world import KnowledgeBase, generate_world
from w2s.data.world_sources import WorldPreferenceSource
from w2s.errors import W2SError

pytestmark = pytest.mark.usefixtures("private_datasets_cache")


def preferred_and_other(texts: tuple[str, str, str], label: int) -> tuple[str, str]:
    _, a, b = texts
    return (a, b) if label else (b, a)


def test_an_hh_comparison_is_the_shared_dialogue_and_the_two_last_replies():
    source = load("anthropic_hh_comparisons")
    index = next(i for i, row in enumerate(source.rows) if "good book" in row["chosen"])
    (prefix, a, b), label = source.example(index, row_rng(0, index))
    assert prefix == (
        "\n\nHuman: Can you help me find a good book to read?\n\nAssistant: Sure, what kinds of books do you "
        "usually enjoy?\n\nHuman: I like mysteries.\n\nAssistant:"
    )
    preferred, other = (a, b) if label else (b, a)
    assert preferred.startswith(" You might enjoy The Hound of the Baskervilles")
    assert other == " Mysteries are a genre of fiction."


def test_every_hh_transcript_is_its_prefix_plus_its_completion_and_the_chosen_one_is_preferred():
    source, rows = load("anthropic_hh_comparisons"), raw_rows("anthropic_hh_comparisons")
    assert len(source) == len(rows)  # the fixture has nothing to drop
    for seed in SEEDS[:3]:
        for index, row in enumerate(rows):
            texts, label = source.example(index, row_rng(seed, index))
            preferred, other = preferred_and_other(texts, label)
            assert texts[0].endswith("\n\nAssistant:")
            assert texts[0] + preferred == row["chosen"] and texts[0] + other == row["rejected"]


def test_the_preferred_completions_position_is_drawn_per_row_with_the_seed():
    source = load("anthropic_hh_comparisons")
    firsts = [
        [source.example(i, row_rng(seed, i))[1] for i in range(len(source))] for seed in SEEDS
    ]
    again = [[source.example(i, row_rng(seed, i))[1] for i in range(len(source))] for seed in SEEDS]
    assert firsts == again  # the seed and the row decide
    assert all({labels[i] for labels in firsts} == {0, 1} for i in range(5))  # each row both ways
    share = sum(map(sum, firsts)) / sum(map(len, firsts))
    assert 0.4 < share < 0.6


def test_the_split_backs_off_to_an_assistant_turn_both_transcripts_share():
    # rejected goes on with the human's turn: the shared part ends inside it, so the split is at the turn before
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Is it ok to eat\n\nAssistant: Sure."
    rejected = (
        "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Is it ok to eat raw eggs?\n\nAssistant: No."
    )
    prefix, good, bad = split_transcripts(chosen, rejected)
    assert prefix == "\n\nHuman: Hi\n\nAssistant:"
    assert (
        good == " Hello!\n\nHuman: Is it ok to eat\n\nAssistant: Sure." and prefix + bad == rejected
    )
    # both replies begin alike: the shared words stay in the completions, the prefix ends at the turn marker
    prefix, good, bad = split_transcripts(
        "\n\nHuman: Q\n\nAssistant: I think yes", "\n\nHuman: Q\n\nAssistant: I think no"
    )
    assert (prefix, good, bad) == ("\n\nHuman: Q\n\nAssistant:", " I think yes", " I think no")
    assert split_transcripts("\n\nHuman: A\n\nAssistant: x", "\n\nHuman: B\n\nAssistant: x") is None


def test_ties_and_rows_with_nothing_to_compare_are_dropped_and_counted(tmp_path):
    rows = raw_rows("anthropic_hh_comparisons")[:6]
    same = rows[0]["chosen"]
    rows += [
        {"chosen": same, "rejected": same},  # a tie
        {
            "chosen": "\n\nHuman: A\n\nAssistant: x",
            "rejected": "\n\nHuman: B\n\nAssistant: y",
        },  # no shared turn
        {
            "chosen": "\n\nHuman: A\n\nAssistant: x",
            "rejected": "\n\nHuman: A\n\nAssistant:",
        },  # an empty reply
        {"chosen": same, "rejected": same},
    ]
    path = tmp_path / "hh.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    source = HFSource("anthropic_hh_comparisons", {"data_files": str(path)})
    assert source.dropped == {"ties": 2, "no_shared_turn": 1, "empty_completions": 1}
    assert len(source) == 6 and [r["chosen"] for r in source.rows] == [
        r["chosen"] for r in rows[:6]
    ]


def test_a_comparison_without_a_transcript_is_dropped_and_counted_and_bad_text_is_named(tmp_path):
    """A null transcript is left out and counted (it ended in a TypeError); text that is not UTF-8 stops the split
    with the file and the row (it ended in a UnicodeDecodeError naming neither)."""
    rows = raw_rows("anthropic_hh_comparisons")[:4]
    path = tmp_path / "hh.jsonl"
    lines = [json.dumps(row) for row in rows] + [json.dumps({"chosen": None, "rejected": "x"})]
    path.write_text("\n".join(lines) + "\n")
    source = HFSource("anthropic_hh_comparisons", {"data_files": str(path)})
    assert source.dropped == {"missing_values": 1} and len(source) == 4
    broken = lines[:2] + [lines[2].replace("Assistant:", "Assistant: \\u00e9", 1)]
    data = ("\n".join(broken) + "\n").encode().replace(b"\\u00e9", b"\xff\xfe")
    path.write_bytes(data)
    with pytest.raises(
        W2SError,
        match=rf"dataset anthropic_hh_comparisons \({path}\): row 2 \(counting from 0 over the rows read\) "
        r"has 'chosen' text that is not valid UTF-8",
    ):
        HFSource("anthropic_hh_comparisons", {"data_files": str(path)})


def test_hh_subsets_are_chosen_by_data_dir_on_the_hub(hub_tasks):
    """The local hub lays hh-rlhf out as the real one: a folder per subset (tests/helpers/hub_layouts.py puts the
    fixture's first half of rows in harmless-base, the rest in helpful-base)."""
    rows = raw_rows("anthropic_hh_comparisons")
    helpful = HFSource("anthropic_hh_comparisons", {"data_dir": "helpful-base"})
    assert [r["chosen"] for r in helpful.rows] == [r["chosen"] for r in rows[-(len(rows) // 2) :]]
    both = HFSource("anthropic_hh_comparisons", {})
    assert len(both) == len(rows)


def test_an_shp_comparison_is_the_post_and_two_comments_the_labelled_one_preferred():
    source, rows = load("shp"), raw_rows("shp")
    for seed in SEEDS[:3]:
        for index, row in enumerate(rows):
            texts, label = source.example(index, row_rng(seed, index))
            preferred, other = preferred_and_other(texts, label)
            assert texts[0] == f"POST: {row['history']}\n\nCOMMENT:"
            winner, loser = ("A", "B") if row["labels"] == 1 else ("B", "A")
            assert (preferred, other) == (
                f" {row[f'human_ref_{winner}']}",
                f" {row[f'human_ref_{loser}']}",
            )
            assert (
                row[f"score_{winner}"] > row[f"score_{loser}"]
            )  # the card: the preferred has more upvotes
            assert source.group(index) == row["domain"]


def test_an_shp_posts_comparisons_stay_in_one_split():
    source = load("shp")
    splits, _ = sample_splits(source, "shp", {"weak_train": 8, "strong_train": 8, "test": 8}, 0)
    posts = [
        {source.rows[int(i.split(":")[1])]["post_id"] for i in f["id"]} for f in splits.values()
    ]
    assert not (posts[0] & posts[1] or posts[0] & posts[2] or posts[1] & posts[2])
    assert splits["test"].columns == [
        "id",
        "text",
        "completion_a",
        "completion_b",
        "label",
        "group",
    ]


def test_shp_ties_are_dropped_and_counted(tmp_path):
    rows = raw_rows("shp")
    rows[3] = {**rows[3], "score_B": rows[3]["score_A"]}
    path = tmp_path / "shp.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    source = HFSource("shp", {"data_files": str(path)})
    assert source.dropped == {"ties": 1} and len(source) == len(rows) - 1


def test_world_preferences_prefer_the_true_value_over_the_tasks_near_miss(tmp_path):
    entry = {"type": "knowledge_base", "n_entities": 40, "digits": 2, "seed": 3, "corpus_lines": 10}
    generate_world(entry, tmp_path / "world")
    source, world = (
        WorldPreferenceSource(tmp_path / "world"),
        KnowledgeBase(n_entities=40, digits=2, seed=3),
    )
    labels = []
    for index in range(40):
        texts, label = source.example(index, row_rng(0, index))
        preferred, other = preferred_and_other(texts, label)
        statement, _, kind = (
            world.task_example(index) if not world.balanced_label(index) else (None, 0, None)
        )
        assert texts[0] == f"e{index:04d}=" and preferred == f"{world.answer(index)}."
        assert other == f"{world.near_miss(index)[0]}." and other != preferred
        if statement is not None:  # the statement task's false statement is this near miss
            assert statement == texts[0] + other and source.group(index) == kind
        labels.append(label)
    assert 10 < sum(labels) < 30


def preference_config(**overrides) -> dict:
    from snakemake_helpers import tiny_config

    from w2s.pipeline.config import validate_config

    config = tiny_config(
        worlds={"kb": {"digits": 1, "n_entities": 100}},
        datasets={"kbp": {"kind": "world", "options": {"world": "kb", "format": "preference"}}},
    )
    config.update(overrides)
    return validate_config(config)


def test_a_comparison_tasks_jobs_are_told_their_models_are_reward_models():
    from w2s.pipeline.rule_params import prediction_params, training_params

    config = preference_config()
    assert training_params(config, "strongling", "kbp", 0).pairs is True
    assert prediction_params(config, "weakling", "kbp").pairs is True
    classification = preference_config(datasets={"toy": {"kind": "synthetic"}})
    assert (
        "pairs" not in training_params(classification, "strongling", "toy", 0).to_dict()
    )  # params as before


def test_the_config_refuses_a_probe_or_a_chess_world_on_a_comparison_task():
    from w2s.errors import W2SError

    models = preference_config()["models"]
    models["weakling"]["mode"] = "probe"
    with pytest.raises(W2SError, match="models.weakling.mode: dataset kbp is a comparison task"):
        preference_config(models=models)
    with pytest.raises(W2SError, match="is a chess world"):
        preference_config(worlds={"kb": {"type": "chess"}})


def test_the_shared_length_is_the_longest_common_prefix():
    import random

    from w2s.data.tasks.comparisons import shared_length

    rng = random.Random(0)
    for _ in range(500):
        a, b = ("".join(rng.choice("ab") for _ in range(rng.randrange(8))) for _ in range(2))
        n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        assert shared_length(a, b) == n, (a, b)
