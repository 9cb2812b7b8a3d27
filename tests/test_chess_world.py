"""The offline chess world (w2s.data.chess_world): games under the real rules (python-chess), puzzles solved by the
real engine (Stockfish, which .ci/run installs), in the hub's puzzle format; its questions as a generative task."""

from __future__ import annotations

import random

import chess
import chess.engine
import polars as pl
import pytest

from w2s.data.chess_world import (
    MATE_PLIES,
    ONLY_MOVE_GAP,
    WINNING,
    board_of,
    engine_path,
    is_legal,
    move_checks,
    moves_of,
    only_move,
    transcript,
)
from w2s.data.splits import sample_splits
from w2s.data.world import (
    CORPUS,
    FACT_WINDOW,
    TASK,
    TOKENIZER,
    generate_world,
    load_world,
    pretraining_tokenizer_and_window,
)
from w2s.data.world_sources import WorldQuestionSource
from w2s.errors import W2SError
from w2s.models.classifier import load_tokenizer
from w2s.records.predictions import answer_table, move_stats
from w2s.training.generate import Answer
from w2s.training.pretrain import corpus_and_loss

WORLD = {"type": "chess", "n_entities": 24, "seed": 4, "corpus_lines": 40, "depth": 6}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("chess") / "world"
    generate_world(WORLD, path)
    return path


@pytest.fixture(scope="module")
def engine():
    engine = chess.engine.SimpleEngine.popen_uci(engine_path())
    engine.configure({"Threads": 1, "Hash": 16})
    yield engine
    engine.quit()


def test_transcripts_number_every_half_move_and_end_before_the_answer():
    assert transcript(["e4", "e5", "Nf3"]) == "1. e4 1... e5 2. Nf3"
    assert transcript(["e4", "e5", "Nf3"], then_number=True) == "1. e4 1... e5 2. Nf3 2..."
    assert transcript(["e4"], then_number=True) == "1. e4 1..."
    assert moves_of("1. e4 1... e5 2. Nf3 2...") == ["e4", "e5", "Nf3"]
    assert is_legal("1. e4 1... e5 2. Nf3 2...", " Nc6") and not is_legal("1. e4 1...", "Nf3")
    assert not is_legal("1. e4 1...", "Qxx9")
    with pytest.raises(W2SError, match="'Ke3' is not a legal move there"):
        board_of("1. e4 1... Ke3")


def test_every_puzzle_is_the_engines_only_move_in_a_real_position(world_dir, engine):
    puzzles = pl.read_parquet(world_dir / TASK)
    assert puzzles.height == 24 and puzzles.columns == [
        "id",
        "ctx",
        "target",
        "FEN",
        "Moves",
        "Themes",
    ]
    assert puzzles["id"].n_unique() == 24
    for puzzle in puzzles.iter_rows(named=True):
        board = board_of(puzzle["ctx"])  # every move of the game so far is legal
        assert puzzle["target"].startswith(" ") and puzzle["ctx"].endswith(".")
        best = board.parse_san(puzzle["target"].strip())  # the target is a legal move there
        # the hub's Lichess schema: the FEN before the opponent's set-up move, then (set-up, answer) in UCI
        setup, answer = puzzle["Moves"].split()
        before = chess.Board(puzzle["FEN"])
        before.push_uci(setup)
        assert before.fen() == board.fen() and answer == best.uci()
        lines = engine.analyse(
            board, chess.engine.Limit(depth=WORLD["depth"]), multipv=2, game=object()
        )
        assert lines[0]["pv"][0] == best
        score = lines[0]["score"].relative
        if score.is_mate():
            assert (
                0 < score.mate() <= MATE_PLIES and puzzle["Themes"] == f"mate mateIn{score.mate()}"
            )
            # no other first move forces mate: the paper scores one target
            assert len(lines) == 1 or (lines[1]["score"].relative.mate() or 0) <= 0
        else:
            second = lines[1]["score"].relative.score(mate_score=100_000)
            assert score.score() >= WINNING and score.score() - second >= ONLY_MOVE_GAP
            assert puzzle["Themes"] == "advantage"


def test_the_corpus_is_real_games_and_the_world_a_function_of_its_seed(world_dir, tmp_path):
    games = (world_dir / CORPUS).read_text().splitlines()
    assert len(games) == 40
    for game in games:
        board_of(game)  # raises on an illegal move
        assert 1 <= len(moves_of(game)) <= 40
    puzzle_games = {p[: len(p) // 2] for p in pl.read_parquet(world_dir / TASK)["ctx"]}
    assert not any(
        game.startswith(start) for game in games for start in puzzle_games if len(start) > 60
    )
    generate_world(WORLD, tmp_path / "again")
    assert (tmp_path / "again" / CORPUS).read_text() == (world_dir / CORPUS).read_text()
    assert pl.read_parquet(tmp_path / "again" / TASK).equals(pl.read_parquet(world_dir / TASK))
    assert (
        "engine" in (world_dir / "world.json").read_text()
    )  # the engine's version is part of the world
    assert load_world(world_dir).n_entities == 24


def test_the_plan_knows_a_chess_worlds_tokenizer_and_bounds_its_window(world_dir):
    saved = load_tokenizer(str(world_dir / TOKENIZER))
    tokenizer, bound = pretraining_tokenizer_and_window(WORLD)
    assert tokenizer.get_vocab() == saved.get_vocab()
    _, _, window = corpus_and_loss(world_dir, saved, 1.0, FACT_WINDOW)
    assert window <= bound


def test_a_mate_is_a_puzzle_only_where_no_other_first_move_forces_mate(engine):
    # at the default depth (8): black mates in 2 with Qc3+, and in 4 with Qc1+: two winning first moves, no puzzle
    two_ways = chess.Board("r3k3/pbqp4/1p6/P4p2/3P1P2/RP6/4P3/4KBr1 b q - 0 19")
    assert only_move(two_ways, engine, depth=8) is None
    # white mates in 2 with Qxh5+ only (the second-best move merely wins material)
    one_way = chess.Board("r2qkbnQ/2ppp1p1/bpn2p2/p7/8/2P3P1/PP1PPP1P/RNB1KBNR w KQq - 1 6")
    assert only_move(one_way, engine, depth=8) == (
        chess.Move.from_uci("h8h5"),
        "mate mateIn2",
    )


def test_chess_questions_split_into_prompts_and_trimmed_moves(world_dir):
    source = WorldQuestionSource(world_dir)
    puzzles = pl.read_parquet(world_dir / TASK)
    assert source.answers and len(source) == 24
    assert source.example(3, random.Random(0)) == (puzzles["ctx"][3], puzzles["target"][3].strip())
    splits, _ = sample_splits(source, "chess", {"weak_train": 8, "strong_train": 8, "test": 8}, 0)
    assert set(splits["test"]["group"]) <= {
        "advantage",
        "mate mateIn1",
        "mate mateIn2",
        "mate mateIn3",
    }
    tokenizer = load_tokenizer(str(world_dir / "tokenizer"))
    for ctx in puzzles["ctx"]:  # one character a token, none unknown
        ids = tokenizer(ctx + " Qxd5#", add_special_tokens=False)["input_ids"]
        assert len(ids) == len(ctx) + 6 and tokenizer.eos_token_id not in ids
        assert tokenizer.decode(ids) == ctx + " Qxd5#"


def test_answers_files_of_moves_count_the_illegal_ones_and_the_right_moves_however_marked(
    world_dir,
):
    from w2s.kinds.answers import answers_file

    puzzles = pl.read_parquet(world_dir / TASK).head(4)
    frame = pl.DataFrame({"id": puzzles["id"], "text": puzzles["ctx"], "answer": puzzles["target"]})
    right = puzzles["target"][3].strip()
    remarked = (
        right.rstrip("+#") if right[-1] in "+#" else right + "+"
    )  # the right move, check marked wrongly
    answers = [Answer(puzzles["target"][0].strip(), -0.1, True), Answer("Ke9", -3.0, True)]
    answers.append(Answer(next(iter(board_of(puzzles["ctx"][2]).legal_moves)).uci(), -1.0, False))
    answers.append(Answer(remarked, -0.5, True))
    table = answers_file(frame, answers, {"legal_moves": True})
    # python-chess reads a move in UCI too: a legal move counts in either notation (only SAN is ever correct)
    assert table["legal"].to_list() == [True, False, True, True]
    assert table["correct"].to_list() == [True, False, False, False]  # the exact string
    _, third_is_right, _ = move_checks(puzzles["ctx"][2], answers[2].text, puzzles["target"][2])
    assert table["move_correct"].to_list() == [True, False, third_is_right, True]
    assert move_stats(table) == {
        "illegal_answers": 1,
        "legal_rate": 0.75,
        "move_accuracy": (2 + third_is_right) / 4,
    }
    assert move_stats(answer_table(frame, answers)) == {}  # not chess moves


def test_a_missing_engine_says_how_to_install_it(monkeypatch):
    import w2s.data.chess_world as chess_world

    monkeypatch.setattr(chess_world, "ENGINE_NAMES", ("no-such-stockfish",))
    with pytest.raises(W2SError, match="apt-get install stockfish"):
        engine_path()
