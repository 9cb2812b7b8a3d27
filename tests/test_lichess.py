"""The paper's chess puzzles from the hub (dataset kind lichess_puzzles, w2s.data.lichess): loaded by hub id at the
pinned commits from a local hub laid out as the real repositories are (tests/helpers/lichess_hub.py), joined with
their ratings, split easy-to-hard, scored with accept_any_mate, fetched for offline nodes, and a whole grid."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest
from lichess_hub import TWO_MATES, UNRATED

from w2s.data.answers import answer_format
from w2s.data.chess_world import board_of, is_legal
from w2s.data.lichess import PUZZLES, RATINGS, rating_band
from w2s.data.registry import make_source
from w2s.data.splits import sample_splits
from w2s.errors import W2SError
from w2s.hub import local_copy
from w2s.kinds.answers import answers_file
from w2s.pipeline.config import validate_config
from w2s.pipeline.fetch import hub_references
from w2s.records.predictions import read_split
from w2s.training.generate import Answer

pytestmark = pytest.mark.usefixtures("private_datasets_cache")
SIZES = {"weak_train": 4, "strong_train": 4, "test": 8}


@pytest.fixture(scope="module")
def source(lichess_hub):
    return make_source("chess", {"kind": "lichess_puzzles"})


def test_the_pinned_puzzles_load_by_hub_id_joined_with_their_ratings(lichess_hub, source):
    puzzles, ratings = lichess_hub
    # both read from the snapshots of the pinned commits, not of main
    assert (
        local_copy(PUZZLES).name == PUZZLES.revision
        and local_copy(RATINGS).name == RATINGS.revision
    )
    assert len(source) == puzzles.height - UNRATED
    assert source.dropped == {"puzzles_without_rating": UNRATED}
    assert source.answers
    first = puzzles.row(UNRATED, named=True)  # the first puzzle the ratings list
    assert source.example(0, random.Random(0)) == (first["ctx"], first["target"].strip())
    rating = ratings.filter(pl.col("PuzzleId") == first["id"])["Rating"].item()
    assert rating == 700 and source.group(0) == rating_band(rating) == "rating <900"
    for i in range(len(source)):  # every target is a legal move where its game stands
        prompt, target = source.example(i, random.Random(0))
        assert is_legal(prompt, target) and not target.startswith(" ")
    assert [rating_band(r) for r in (899, 900, 1199, 2399, 2400)] == [
        "rating <900",
        "rating 900-1199",
        "rating 900-1199",
        "rating 2100-2399",
        "rating >=2400",
    ]


def test_easy_to_hard_trains_below_the_rating_and_tests_on_all(lichess_hub):
    puzzles = make_source(
        "chess", {"kind": "lichess_puzzles", "options": {"train_max_rating": 2000}}
    )
    splits, _ = sample_splits(puzzles, "chess", SIZES, seed=0)
    ctx_rating = {
        puzzles.example(i, random.Random(0))[0]: puzzles.ratings[i] for i in range(len(puzzles))
    }
    for split in ("weak_train", "strong_train"):
        assert all(ctx_rating[text] <= 2000 for text in splits[split]["text"])
    test_ratings = [ctx_rating[text] for text in splits["test"]["text"]]
    assert max(test_ratings) > 2000  # drawn from all puzzles
    assert len(set().union(*(set(s["id"]) for s in splits.values()))) == sum(SIZES.values())
    too_easy = make_source(
        "chess", {"kind": "lichess_puzzles", "options": {"train_max_rating": 800}}
    )
    with pytest.raises(W2SError, match="left out of the splits before test"):
        sample_splits(too_easy, "chess", SIZES, seed=0)


def test_accept_any_mate_scores_every_mating_move_of_a_mate_in_one():
    frame = pl.DataFrame(
        {"id": ["a", "a2"], "text": [TWO_MATES["ctx"]] * 2, "answer": [TWO_MATES["target"]] * 2}
    )
    other_mate, no_mate = Answer("Bxf2#", -0.5, True), Answer("Qxh2", -0.7, True)
    fmt = {"stop": " ", "max_new_tokens": 10, "prefix": " ", "legal_moves": True}
    assert board_of(TWO_MATES["ctx"]).is_check() is False
    strict = answers_file(frame, [other_mate, no_mate], fmt)
    lenient = answers_file(frame, [other_mate, no_mate], {**fmt, "any_mate": True})
    assert strict["correct"].to_list() == [False, False]
    assert lenient["correct"].to_list() == [True, False]
    assert lenient["legal"].to_list() == [True, True]


def test_the_config_asks_the_jobs_for_the_answer_format_and_fetch_names_both_repositories():
    entry = {"kind": "lichess_puzzles", "options": {"accept_any_mate": True}}
    base = {
        "datasets": {"chess": entry},
        "models": {"a": {"path": "gpt2"}, "b": {"path": "gpt2"}},
        "losses": {"xent": {"type": "xent"}},
    }
    config = validate_config(json.loads(json.dumps(base)))
    fmt = answer_format(config, "chess")
    assert fmt.params() == {
        "stop": " ",
        "max_new_tokens": 10,
        "prefix": " ",
        "legal_moves": True,
        "any_mate": True,
    }
    refs = hub_references(config)
    assert refs[PUZZLES] == ["datasets.chess"] and refs[RATINGS] == ["datasets.chess"]
    wrong = {**base, "datasets": {"chess": {**entry, "options": {"elo": 1}}}}
    with pytest.raises(W2SError, match=r"datasets.chess.options: unknown option\(s\) \['elo'\]"):
        validate_config(wrong)


@pytest.mark.workflow
def test_a_chess_grid_on_the_hub_puzzles_runs_end_to_end(tmp_path, lichess_hub, chess_world_dir):
    """Models pretrained on the chess world's games; the hub's puzzles easy-to-hard, weak answers labelled in
    shards, a student, a bootstrapping chain on fresh splits, weak_val early stopping, zero-shot, the summary.
    Every answers file records which answers are legal moves, and the labels file how many are not, over the
    whole split."""
    from conftest import CHESS_WORLD
    from snakemake_helpers import LOCAL_ENV, snakemake, write_config

    from w2s.io import read_parquet_metadata

    pretrain = {"world": "chess", "arch": "gpt2", "num_layers": 1, "num_heads": 2, "batch_size": 16}
    model = {"lr": 1e-3, "batch_size": 8, "minibatch_size": 8, "max_length": 112}
    config = {
        "seeds": [0],
        "worlds": {"chess": CHESS_WORLD},
        "datasets": {
            "puzzles": {
                "kind": "lichess_puzzles",
                "options": {"train_max_rating": 3000},
                "n_weak_train": 4,
                "n_strong_train": 4,
                "n_test": 6,
                "n_validation": 4,
            }
        },
        "models": {
            "weak": {"pretrain": {**pretrain, "hidden_size": 8, "steps": 10}, **model},
            "mid": {"pretrain": {**pretrain, "hidden_size": 12, "steps": 15}, **model},
            "strong": {"pretrain": {**pretrain, "hidden_size": 16, "steps": 20}, **model},
        },
        "pairs": [{"weak": "weak", "strong": "strong"}],
        "chains": [["weak", "mid", "strong"]],
        "chain_folds": "fresh",
        "losses": {"xent": {"type": "xent"}},
        "labelling": {"shards": 2},
        "training": {"epochs": 1, "eval_every": 1, "autocast": "off", "early_stopping": "weak_val"},
    }
    write_config(tmp_path, config)
    env = {**LOCAL_ENV, "HF_DATASETS_CACHE": str(tmp_path / "datasets_cache")}
    snakemake(tmp_path, "--cores", "2", env=env)
    results = tmp_path / "results"
    puzzles, ratings = lichess_hub
    rating_of = dict(zip(ratings["PuzzleId"], ratings["Rating"]))
    id_of = dict(zip(puzzles["ctx"], puzzles["id"]))
    seen = set()
    for split in ("weak_train", "strong_train", "validation", "chain_train2", "test"):
        frame = read_split(results / f"data/puzzles/seed0/{split}.parquet", "answer")
        assert not seen & set(frame["id"])  # every split disjoint from the others
        seen |= set(frame["id"])
        if split != "test":  # the training splits hold easy puzzles only
            assert all(rating_of[id_of[text]] <= 3000 for text in frame["text"])
            assert set(frame["group"]) <= {rating_band(r) for r in range(0, 3001, 100)}
    chain_labels = "labels/puzzles/seed0/chain/weak+mid+strong/xent/mid.parquet"
    for path, rows in (("labels/puzzles/seed0/weak.parquet", 4), (chain_labels, 4)):
        labels = pl.read_parquet(results / path)
        assert labels.height == rows and labels["legal"].dtype == pl.Boolean
        for row in labels.iter_rows(named=True):
            assert row["legal"] == is_legal(row["text"], row["generated"])
            assert row["correct"] == (row["generated"] == row["answer"])
        metadata = read_parquet_metadata(results / path)
        assert int(metadata["illegal_answers"]) == int((~labels["legal"]).sum())
    assert read_parquet_metadata(results / chain_labels)["split"] == "chain_train2"
    stops = json.loads(
        (results / "student/puzzles/seed0/weak/strong/xent/early_stopping.json").read_text()
    )
    assert {s["early_stopping"] for s in stops} == {"weak_val", "oracle"}
    for folder in ("student/puzzles/seed0/weak/strong/xent", "zero_shot/puzzles/seed0/strong"):
        metrics = json.loads((results / folder / "metrics.json").read_text())
        predictions = pl.read_parquet(results / folder / "test_predictions.parquet")
        assert metrics["illegal_answers"] == int((~predictions["legal"]).sum())
        assert metrics["accuracy"] == pytest.approx(predictions["correct"].mean())
        if folder.startswith("student"):  # written answers have no chance level (its info says so)
            assert "chance" in metrics and metrics["chance"] is None
    runs = pl.read_parquet(results / "summary/runs.parquet")
    # two direct students and the chain's last link, each at its final step and its two early stops
    assert runs.height == 9 and runs["strong_zero_shot_acc"].null_count() == 0
    assert sorted(runs.filter(pl.col("early_stopping") == "weak_val")["chain"]) == [
        "",
        "",
        "weak+mid+strong",
    ]
    assert set(runs["flags"]) <= {"ceiling_not_above_weak", ""}  # never below chance


def test_puzzles_that_cannot_be_answered_are_left_out_and_counted_as_the_splits_are_drawn(
    chess_world_dir, tmp_path
):
    """A transcript that does not replay and a target that is not a legal move stay out of the splits, counted in
    the split's metadata (dropped), where they were drawn into them and found only once a run had trained."""
    from lichess_hub import card, puzzle_tables, two_files

    puzzles, ratings = puzzle_tables(chess_world_dir)
    puzzles = puzzles.with_columns(
        ctx=pl.when(pl.col("id") == "p5").then(pl.lit("1. e4 1... Ke9 2.")).otherwise("ctx"),
        target=pl.when(pl.col("id") == "p6").then(pl.lit(" Zz9")).otherwise("target"),
    )
    folders = {}
    for name, frame in (("puzzles", puzzles), ("ratings", ratings)):
        folders[name] = tmp_path / name
        for file, data in {"README.md": card(frame), **two_files(frame)}.items():
            (folders[name] / file).parent.mkdir(parents=True, exist_ok=True)
            (folders[name] / file).write_bytes(data if isinstance(data, bytes) else data.encode())
    options = {"source": str(folders["puzzles"]), "ratings_source": str(folders["ratings"])}
    source = make_source("chess", {"kind": "lichess_puzzles", "options": options})
    usable = len(source) - 2
    sizes = {"weak_train": 4, "strong_train": 4, "test": usable - 8}
    splits, _ = sample_splits(source, "chess", sizes, seed=0)
    drawn = {row_id for frame in splits.values() for row_id in frame["id"]}
    bad = {
        f"chess:{i}"
        for i, (prompt, target) in enumerate(zip(source.prompts, source.targets, strict=True))
        if "Ke9" in prompt or target == "Zz9"
    }
    assert len(bad) == 2 and not bad & drawn and len(drawn) == usable
    assert source.dropped == {
        "puzzles_without_rating": 2,
        "malformed_transcripts": 1,
        "illegal_targets": 1,
    }
