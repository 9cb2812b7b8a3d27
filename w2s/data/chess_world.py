"""A chess world made on this machine: games played under the real rules (python-chess), and puzzles from their
positions solved by a real engine (Stockfish), in the format of the hub's chess puzzles (EleutherAI/lichess-puzzles:
`ctx` a SAN transcript with every half-move numbered, `target` the best move in SAN with a leading space).

The games are played by a simple player that takes the most valuable piece it can capture with probability
`capture_rate` and otherwise moves at random, so the corpus is full of real tactics of one kind: pieces left hanging
and taken. The pretraining corpus is one such game per line; the task's games are others, cut at a random position
where Stockfish (fixed depth, one thread: the same answer on every run) finds an "only move": a mate in at most
`MATE_PLIES` where no other move forces mate, or a move that keeps at least `ONLY_MOVE_GAP` centipawns more than the
second best and wins. Each puzzle records, as the hub's Lichess/chess-puzzles does, the FEN before the opponent's
set-up move and the moves in UCI (set-up, answer), and its themes (mateIn1..3 or advantage). A model's knowledge is
set by its corpus: a share (`known_fraction`) of the corpus games, nested by share, as in the fact worlds.

Everything is a pure function of the world's seed and the engine's version (which world.json records).
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass

import polars as pl

from w2s.errors import W2SError
from w2s.io import atomic_path, write_parquet

PIECE_VALUES = {
    1: 1,
    2: 3,
    3: 3,
    4: 5,
    5: 9,
    6: 0,
}  # pawn, knight, bishop, rook, queen, king (by chess piece type)
MATE_PLIES = 3  # mates in 1 to 3 moves are puzzles
ONLY_MOVE_GAP = 300  # centipawns between the best and the second-best move
WINNING = 150  # the best move must leave the side to move at least this far ahead
FIRST_PUZZLE_PLY = 6  # no puzzles in the first moves, where a game has barely begun
TRIES_PER_GAME = 12  # positions of one game the engine looks at before the game is given up
ENGINE_NAMES = ("stockfish", "/usr/games/stockfish")  # Debian installs it in /usr/games
CHESS_CHARACTERS = " .+#=-/0123456789abcdefghKQRBNPOx"  # every character of a transcript


def engine_path() -> str:
    """The Stockfish binary, or an error that says how to install it."""
    found = next((p for p in map(shutil.which, ENGINE_NAMES) if p), None)
    if found is None:
        raise W2SError(
            "a chess world needs the Stockfish engine: install it (Debian/Ubuntu, as root: apt-get install "
            "stockfish), or put a `stockfish` binary on PATH"
        )
    return found


def transcript(sans: list[str], then_number: bool = False) -> str:
    """Moves as the hub's ctx writes them, every half-move numbered: "1. e4 1... e5 2. Nf3"; `then_number` ends
    it with the number of the half-move to play next ("... 2. Nf3 2..."), where a puzzle's answer follows."""
    parts = [f"{i // 2 + 1}{'.' if i % 2 == 0 else '...'} {san}" for i, san in enumerate(sans)]
    if then_number:
        parts.append(f"{len(sans) // 2 + 1}{'.' if len(sans) % 2 == 0 else '...'}")
    return " ".join(parts)


def moves_of(ctx: str) -> list[str]:
    """The SAN moves of a transcript (the inverse of `transcript`)."""
    return [word for word in ctx.split() if not word[0].isdigit()]


def board_of(ctx: str):
    """The position a transcript reaches, or an error naming the move that is not legal."""
    import chess

    board = chess.Board()
    for san in moves_of(ctx):
        try:
            board.push_san(san)
        except ValueError:
            raise W2SError(f"transcript {ctx!r}: {san!r} is not a legal move there") from None
    return board


def parsed_move(board, san: str):
    """The move `san` names in `board`'s position (python-chess's reading of SAN, which also takes a move written in
    UCI, and reads "Qh5" and "Qh5+" as one move), or None where it names no legal move."""
    try:
        return board.parse_san(san.strip())
    except ValueError:
        return None


def is_legal(ctx: str, san: str) -> bool:
    """Whether `san` is a legal move in the position `ctx` reaches."""
    return parsed_move(board_of(ctx), san) is not None


def mates(board, move) -> bool:
    """Whether `move` (None: no legal move) checkmates in `board`'s position."""
    if move is None:
        return False
    board.push(move)
    mate = board.is_checkmate()
    board.pop()
    return mate


def move_checks(ctx: str, answer: str, truth: str) -> tuple[bool, bool, bool]:
    """An answer to the position `ctx` reaches, checked from one replay of the transcript: whether it is a legal
    move; whether it is the true move however each marks check or mate (an exact comparison of the strings scores a
    right move with a wrong or missing `+`/`#` wrong); and whether it and the true move both checkmate."""
    board = board_of(ctx)
    move, target = parsed_move(board, answer), parsed_move(board, truth)
    return (
        move is not None,
        move is not None and move == target,
        mates(board, move) and mates(board, target),
    )


@dataclass(frozen=True)
class ChessWorld:
    """`n_entities` puzzles (the task), `corpus_lines` corpus games, games of at most `max_plies` half-moves,
    analysed by Stockfish at `depth`."""

    n_entities: int = 3000
    seed: int = 0
    corpus_lines: int = 20000
    depth: int = 8
    max_plies: int = 40
    capture_rate: float = 0.7

    def play(self, rng: random.Random, plies: int) -> list:
        """A game of the simple player (module docstring), as python-chess moves, at most `plies` long."""
        import chess

        board, moves = chess.Board(), []
        while len(moves) < plies and not board.is_game_over():
            legal = list(board.legal_moves)
            captures = [m for m in legal if board.is_capture(m)]
            if captures and rng.random() < self.capture_rate:
                move = max(captures, key=lambda m: (captured_value(board, m), m.uci()))
            else:
                move = rng.choice(legal)
            moves.append(move)
            board.push(move)
        return moves

    def corpus_game(self, index: int) -> str:
        rng = random.Random(f"corpus:{self.seed}:{index}")
        return game_text(self.play(rng, self.max_plies))

    def puzzle(self, index: int, engine) -> dict | None:
        """Puzzle `index`: a game of its own, cut where the engine finds an only move; None if none was found."""
        import chess
        import chess.engine

        rng = random.Random(f"puzzle:{self.seed}:{index}")
        moves = self.play(rng, self.max_plies)
        plies = list(range(FIRST_PUZZLE_PLY, len(moves) + 1))
        rng.shuffle(plies)
        for ply in plies[:TRIES_PER_GAME]:
            board = chess.Board()
            for move in moves[:ply]:
                board.push(move)
            if board.is_game_over():
                continue
            found = only_move(board, engine, self.depth)
            if found is None:
                continue
            best, theme = found
            setup = board.copy()
            setup.pop()
            sans = san_moves(moves[:ply])
            return {
                "id": f"{self.seed}-{index}",
                "ctx": transcript(sans, then_number=True),
                "target": " " + board.san(best),
                "FEN": setup.fen(),
                "Moves": f"{moves[ply - 1].uci()} {best.uci()}",
                "Themes": theme,
            }
        return None


def captured_value(board, move) -> int:
    if board.is_en_passant(move):
        return PIECE_VALUES[1]
    return PIECE_VALUES[board.piece_type_at(move.to_square)]


def san_moves(moves: list) -> list[str]:
    import chess

    board, sans = chess.Board(), []
    for move in moves:
        sans.append(board.san(move))
        board.push(move)
    return sans


def game_text(moves: list) -> str:
    return transcript(san_moves(moves))


def analyse(board, engine, depth: int) -> list:
    """The engine's two best lines at `depth`, from an empty hash table (a new `game` makes python-chess send
    ucinewgame): what an earlier search left in the table would change the answer, and the world must not depend
    on which positions were searched before."""
    import chess.engine

    return engine.analyse(board, chess.engine.Limit(depth=depth), multipv=2, game=object())


def only_move(board, engine, depth: int):
    """(the best move, its theme) where the position has an only move (module docstring), else None."""

    lines = analyse(board, engine, depth)
    best = lines[0]["score"].relative
    if best.is_mate():
        moves = best.mate()
        if not 0 < moves <= MATE_PLIES:
            return None
        # the first move must be the only one that forces mate, in any number of moves (as Lichess's mate puzzles):
        # where another does too, a solver who finds that win would be scored wrong against the one target
        if len(lines) > 1 and (lines[1]["score"].relative.mate() or 0) > 0:
            return None
        return lines[0]["pv"][0], f"mate mateIn{moves}"
    if len(lines) < 2:
        return None  # one legal move: nothing to find
    second = lines[1]["score"].relative.score(mate_score=100_000)
    if best.score() >= WINNING and best.score() - second >= ONLY_MOVE_GAP:
        return lines[0]["pv"][0], "advantage"
    return None


def generate_chess_world(
    entry: dict, out_dir, corpus_file: str, task_file: str, tokenizer_dir: str, entry_file: str
) -> None:
    """Write the corpus (one game a line), the puzzles (hub schema) and a character tokenizer to `out_dir`."""
    import chess.engine

    world = make_chess_world(entry)
    engine = chess.engine.SimpleEngine.popen_uci(engine_path())
    engine.configure({"Threads": 1, "Hash": 16})
    version = engine.id.get("name", "unknown")
    try:
        with atomic_path(out_dir) as tmp:
            tmp.mkdir()
            with open(tmp / corpus_file, "w") as corpus:
                corpus.writelines(world.corpus_game(i) + "\n" for i in range(world.corpus_lines))
            puzzles, index = [], 0
            while len(puzzles) < world.n_entities:
                if index >= 20 * world.n_entities:
                    raise W2SError(
                        f"chess world {entry}: only {len(puzzles)} puzzles in {index} games; allow longer "
                        "games (max_plies) or fewer puzzles (n_entities)"
                    )
                puzzle = world.puzzle(index, engine)
                index += 1
                if puzzle is not None:
                    puzzles.append(puzzle)
            write_parquet(pl.DataFrame(puzzles), tmp / task_file)
            chess_tokenizer().save_pretrained(tmp / tokenizer_dir)
            (tmp / entry_file).write_text(
                json.dumps({**entry, "engine": version}, sort_keys=True) + "\n"
            )
    finally:
        engine.quit()
    print(
        f"chess world: {world.corpus_lines} corpus games, {world.n_entities} puzzles from {index} games "
        f"({version}, depth {world.depth})",
        flush=True,
    )


CHESS_KEYS = ("n_entities", "seed", "corpus_lines", "depth", "max_plies", "capture_rate")


def chess_tokenizer():
    """A chess world's tokenizer: one token per character of a transcript."""
    from w2s.data.tokenizers import word_tokenizer

    return word_tokenizer(list(CHESS_CHARACTERS), r".")


def window_bound(max_plies: int) -> int:
    """At least the context window a chess world's pretraining takes (its longest game, or puzzle with its answer,
    and one): per half-move, the answer's included, its number ("8... "), its SAN (at most 7 characters, "exd8=Q#")
    and a space; and one."""
    per_ply = len(str(max_plies // 2 + 1)) + 4 + 7 + 1
    return (max_plies + 1) * per_ply + 1


def make_chess_world(entry: dict) -> ChessWorld:
    return ChessWorld(**{k: entry[k] for k in CHESS_KEYS if k in entry})
