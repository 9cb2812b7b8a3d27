"""The levelled-Nim world: positions with one winning move, players of known strength, and answers scored as moves."""

from __future__ import annotations

import collections
import random

import polars as pl
import pytest

from w2s.data.nim import (
    Nim,
    after,
    heaps_of,
    heuristic_move,
    is_legal,
    moves,
    nim_sum,
    puzzle_positions,
    read_move,
)
from w2s.data.registry import check_world_format
from w2s.data.world import CORPUS, TASK, generate_world
from w2s.data.world_sources import WorldQuestionSource
from w2s.errors import W2SError
from w2s.models.classifier import load_tokenizer
from w2s.records.predictions import move_stats
from w2s.training.generate import Answer

ENTRY = {"type": "nim", "n_entities": 600, "seed": 3, "corpus_lines": 20000}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("nim") / "world"
    generate_world(ENTRY, out)
    return out


def test_every_position_has_one_winning_move_and_the_heuristic_finds_it_where_heaps_can_pair():
    positions = puzzle_positions()
    assert len(positions) == 8960 and len(set(positions)) == 8960
    heuristic_wins = 0
    for heaps in positions:
        winning = [m for m in moves(heaps) if nim_sum(after(heaps, m)) == 0]
        assert nim_sum(heaps) != 0 and len(winning) == 1
        move = heuristic_move(heaps)
        left = [h for h in after(heaps, move) if h]
        paired = all(left.count(h) % 2 == 0 for h in left)
        # a pairing move leaves nim-sum 0, so it is the winning move; else the heuristic empties the largest heap
        # (which wins too where that happens to leave nim-sum 0)
        if paired:
            assert move == winning[0]
        else:
            assert move[1] == 0 and heaps[move[0]] == max(heaps)
        heuristic_wins += move == winning[0]
    assert heuristic_wins == 5240  # 58% of the positions


def test_questions_ask_a_seeded_choice_of_positions_for_their_winning_move(world_dir):
    world = Nim(n_entities=600, seed=3)
    source = WorldQuestionSource(world_dir)
    assert len(source) == 600 and len(set(source.prompts)) == 600
    for prompt, target, group in zip(source.prompts, source.targets, source.groups, strict=True):
        heaps = heaps_of(prompt)
        assert prompt == f"-{''.join(map(str, heaps))}=" and heaps in set(puzzle_positions())
        move = read_move(target)
        assert nim_sum(after(heaps, move)) == 0 and is_legal(heaps, target)
        assert group == ("heuristic wins" if heuristic_move(heaps) == move else "heuristic loses")
    assert Nim(n_entities=600, seed=4).positions != world.positions
    task = pl.read_parquet(world_dir / TASK)
    assert task["text"].to_list() == [p + t + "." for p, t in zip(source.prompts, source.targets)]
    tokenizer = load_tokenizer(str(world_dir / "tokenizer"))
    ids = tokenizer("-31520=c2.", add_special_tokens=False)["input_ids"]
    assert (
        len(ids) == 10 and tokenizer.eos_token_id not in ids
    )  # one character a token, none unknown


def test_each_player_plays_its_own_move_and_untagged_lines_follow_the_heuristic_by_band(world_dir):
    world = Nim(n_entities=600, seed=3)
    index = {world.prompt(i)[1:]: i for i in range(world.n_entities)}
    tags, untagged = collections.Counter(), collections.defaultdict(list)
    for line in (world_dir / CORPUS).read_text().split():
        source, text = line.split("|")
        tag, i, move = text[0], index[text[1:7]], text[7:9]
        assert text[9:] == "." and is_legal(world.positions[i], move)
        tags[tag] += 1
        if tag != "-" or move != world.heuristic_answer(
            i
        ):  # else either source could have played it
            assert source == ("x" if tag == "E" or tag == "-" else "o")
        if tag == "E":
            assert move == world.answer(i)
        if tag == "H":
            assert move == world.heuristic_answer(i)
        if tag == "-":
            assert move in (world.answer(i), world.heuristic_answer(i))
            if world.answer(i) != world.heuristic_answer(i):
                untagged[world.untagged_heuristic_share(world.band(i))].append(
                    move == world.heuristic_answer(i)
                )
    assert set(tags) == set("EHN-") and min(tags.values()) > 4000  # a quarter each
    assert sorted(untagged) == [
        pytest.approx(0.1),
        0.9,
    ]  # most bands heuristic-led, some expert-led
    for share, followed in untagged.items():
        assert abs(sum(followed) / len(followed) - share) < 0.05


def test_a_model_reads_the_expert_only_about_its_known_positions(world_dir):
    world = Nim(n_entities=600, seed=3)
    lines = (world_dir / CORPUS).read_text().split()
    seen = {}
    for fraction in (0.1, 0.5, 1.0):
        visible = world.visible_lines(lines, fraction)
        known = world.known_prompts(fraction)
        expert = {"-" + t[1:7] for t in visible if t[0] == "E"}
        assert expert <= known and len(expert) > 0.9 * len(known)
        assert sum(t[0] in "HN" for t in visible) == sum(line[2] in "HN" for line in lines)
        seen[fraction] = expert
    assert seen[0.1] <= seen[0.5] <= seen[1.0]  # nested by share


def test_answers_files_of_nim_moves_record_their_legality():
    from w2s.kinds.answers import answers_file

    frame = pl.DataFrame({"id": [0, 1, 2, 3], "text": ["-31520="] * 4, "answer": ["c0"] * 4})
    answers = [Answer("c0", -0.1, True), Answer("d5", -1.0, True)]
    answers += [Answer("a3", -2.0, True), Answer("c", -3.0, False)]
    table = answers_file(frame, answers, {"nim_moves": True})
    # heap d has 2 stones (it cannot be left with 5); heap a has 3 (leaving 3 takes none); "c" is no move
    assert table["legal"].to_list() == [True, False, False, False]
    assert table["correct"].to_list() == [True, False, False, False]
    assert move_stats(table) == {"illegal_answers": 3, "legal_rate": 0.25}


def test_a_nim_world_is_asked_only_as_questions():
    worlds = {"nim": {"type": "nim"}}
    entry = {"kind": "world", "options": {"world": "nim"}}
    with pytest.raises(W2SError, match=r"datasets\.moves\.options\.format: .*nim world.*question"):
        check_world_format("moves", entry, worlds)
    check_world_format(
        "moves", {**entry, "options": {"world": "nim", "format": "question"}}, worlds
    )
    with pytest.raises(ValueError, match="8960 positions"):
        Nim(n_entities=9000)


def test_the_corpus_is_a_function_of_the_seed(world_dir, tmp_path):
    generate_world(ENTRY, tmp_path / "again")
    assert (tmp_path / "again" / CORPUS).read_bytes() == (world_dir / CORPUS).read_bytes()
    rng = random.Random(0)
    other = Nim(n_entities=600, seed=4)
    assert [other.corpus_line(rng) for _ in range(5)] != (world_dir / CORPUS).read_text().split()[
        :5
    ]
