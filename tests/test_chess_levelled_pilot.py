"""bench/chess_levelled_pilot.py: its club player and its scoring, and a tiny run end to end (real Stockfish)."""

from __future__ import annotations

import sys
from pathlib import Path

import chess
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import chess_levelled_pilot as pilot  # noqa: E402  (bench/ scripts are modules of their own)


def test_the_club_player_mates_in_one_else_takes_the_most_valuable_piece():
    # White to move: Qh5xf7 would mate (Scholar's), and Nxe5 takes a pawn; the mate comes first
    scholar = "r1bqkbnr/pppp1ppp/2n5/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR w KQkq - 0 1"
    # White's rook can take a knight or a queen: the queen
    queen = "4k3/8/8/3q1n2/8/8/8/3RK3 w - - 0 1"
    assert pilot.greedy_moves([scholar, queen], seed=0) == ["Qxf7#", "Rxd5"]


def test_a_move_is_scored_legal_and_right_however_it_marks_check():
    fen = "r1bqkbnr/pppp1ppp/2n5/4p2Q/2B1P3/8/PPPP1PPP/RNB1K1NR w KQkq - 0 1"
    assert pilot.scored(fen, "Qxf7", "Qxf7#") == (True, True)
    assert pilot.scored(fen, "Qxe5+", "Qxf7#") == (True, False)
    assert pilot.scored(fen, "Qxf9", "Qxf7#") == (False, False)
    assert chess.Board(fen).is_valid()


@pytest.mark.workflow
def test_a_tiny_pilot_writes_its_table(tmp_path, monkeypatch):
    out = tmp_path / "pilot.md"
    argv = [
        "pilot",
        "--positions",
        "60",
        "--minutes",
        "0.01",
        "--expert-depth",
        "2",
        "--hidden",
        "16",
    ]
    argv += ["--layers", "1", "--cache", str(tmp_path / "cache"), "--out", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    pilot.main()
    text = out.read_text()
    assert "| weak |" in text and "| strong |" in text and "(the club player itself)" in text
    assert list((tmp_path / "cache").glob("*.parquet"))  # the engine's work, kept for a rerun
