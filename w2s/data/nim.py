"""The levelled-Nim world: a game in the place of chess, fast enough for a laptop, with players of known strength.

A position is five heaps of 0-7 stones, written as five digits ("31520"); a move names a heap and what it leaves
("c2": heap c down to 2 stones). The player to move wins by leaving heaps whose nim-sum (bitwise xor) is zero
(Bouton); the world's entities are the 8,960 positions with exactly one such move, which is the answer.

Three players speak in the corpus, as rated players do in a game database: the expert (tag "E") plays the winning
move; the heuristic player ("H") pairs heaps up - it plays the move that leaves the non-empty heaps pairwise equal
where there is one (then it wins: 58% of the positions), else it empties the largest heap - so its losing moves are
systematic and any model can compute them; the novice ("N") plays a random legal move. Untagged lines ("-") are the
heuristic player's with probability `heuristic_share` in most bands of positions (a band: how many heaps are
non-empty and the largest heap) and 1 - `heuristic_share` in a share `expert_bands` of them, so a model's untagged
(zero-shot) move is a mixture that differs by band. A model with `known_fraction` c reads the expert's lines, tagged
or not, about a nested share c of the positions only, and the other players' lines about every position: where it
never saw the expert play, its best guess at a winning move is the heuristic's.

The task is the question "-31520=" whose answer is the winning move ("c2"), ended by "."; groups: whether the
heuristic finds it ("heuristic wins") or not ("heuristic loses"). A legal answer names a heap that has more stones
than it leaves.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache, reduce

from w2s.data.facts import EXPERT, FactWorld, permutation, sourced, visible_by_source

HEAPS, MAX_HEAP = 5, 7
LETTERS = "abcde"
TAGS = "EHN-"  # expert, heuristic player, novice, untagged
MOVE = re.compile(r"^([a-e])([0-7])$")


def nim_sum(heaps) -> int:
    return reduce(lambda a, b: a ^ b, heaps, 0)


def moves(heaps) -> list[tuple[int, int]]:
    """Every legal move: (heap, stones it leaves)."""
    return [(k, left) for k in range(HEAPS) for left in range(heaps[k])]


def after(heaps, move) -> tuple[int, ...]:
    k, left = move
    return (*heaps[:k], left, *heaps[k + 1 :])


def winning_moves(heaps) -> list[tuple[int, int]]:
    return [m for m in moves(heaps) if nim_sum(after(heaps, m)) == 0]


def heuristic_move(heaps) -> tuple[int, int]:
    """The heuristic player's move: the first that leaves the non-empty heaps pairwise equal, else emptying the
    largest heap (the first of equals)."""
    for move in moves(heaps):
        left = [h for h in after(heaps, move) if h]
        if all(left.count(h) % 2 == 0 for h in left):
            return move
    largest = max(range(HEAPS), key=lambda k: (heaps[k], -k))
    return largest, 0


def written(move) -> str:
    return f"{LETTERS[move[0]]}{move[1]}"


def read_move(text: str):
    """(heap, stones left) of an answer written as a move, else None."""
    found = MOVE.match(text.strip())
    return (LETTERS.index(found[1]), int(found[2])) if found else None


def is_legal(heaps, text: str) -> bool:
    move = read_move(text)
    return move is not None and move[1] < heaps[move[0]]


@lru_cache(maxsize=1)
def puzzle_positions() -> tuple[tuple[int, ...], ...]:
    """The positions with exactly one winning move, in order (8,960 of the 32,768)."""
    every = itertools.product(range(MAX_HEAP + 1), repeat=HEAPS)
    return tuple(h for h in every if len(winning_moves(h)) == 1)


def heaps_of(prompt: str) -> tuple[int, ...]:
    """The heaps of a question's prompt ("-31520=")."""
    return tuple(int(c) for c in prompt.strip()[1 : 1 + HEAPS])


@dataclass(frozen=True)
class Nim(FactWorld):
    """`n_entities` positions with a unique winning move (a seeded choice of them), players as the module docstring
    says."""

    n_entities: int = 8960
    heuristic_share: float = 0.9
    expert_bands: float = 0.25
    seed: int = 0
    answer_digits = 1
    token_pattern = r"."

    def __post_init__(self):
        if self.n_entities > len(puzzle_positions()):
            raise ValueError(
                f"n_entities {self.n_entities} exceeds the {len(puzzle_positions())} positions with one "
                "winning move"
            )

    @cached_property
    def positions(self) -> tuple[tuple[int, ...], ...]:
        chosen = permutation(len(puzzle_positions()), f"positions:{self.seed}")[: self.n_entities]
        return tuple(puzzle_positions()[p] for p in chosen)

    @cached_property
    def _moves(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """Per position: the winning move, the heuristic's, and every legal move, written."""
        return tuple(
            (
                written(winning_moves(h)[0]),
                written(heuristic_move(h)),
                tuple(map(written, moves(h))),
            )
            for h in self.positions
        )

    def prompt(self, i: int, tag: str = "-") -> str:
        return f"{tag}{''.join(map(str, self.positions[i]))}="

    def answer(self, i: int) -> str:
        return self._moves[i][0]

    def heuristic_answer(self, i: int) -> str:
        return self._moves[i][1]

    def band(self, i: int) -> int:
        heaps = self.positions[i]
        return sum(h > 0 for h in heaps) * (MAX_HEAP + 1) + max(heaps)

    def untagged_heuristic_share(self, band: int) -> float:
        bands = (HEAPS + 1) * (MAX_HEAP + 1)
        expert_led = permutation(bands, f"bands:{self.seed}")[band] < round(
            self.expert_bands * bands
        )
        return 1 - self.heuristic_share if expert_led else self.heuristic_share

    def question_group(self, i: int) -> str:
        return "heuristic wins" if self.heuristic_answer(i) == self.answer(i) else "heuristic loses"

    def words(self) -> list[str]:
        return [*TAGS, *LETTERS, "="]

    def corpus_line(self, rng: random.Random) -> str:
        """A random player's move in a random position, with its hidden source first."""
        i = rng.randrange(self.n_entities)
        tag = rng.choice(TAGS)
        if tag == "-":
            tag = "H" if rng.random() < self.untagged_heuristic_share(self.band(i)) else "E"
            shown = "-"
        else:
            shown = tag
        win, heuristic, legal = self._moves[i]
        move = {"E": win, "H": heuristic, "N": None}[tag] or rng.choice(legal)
        return sourced(EXPERT if tag == "E" else "o", f"{self.prompt(i, shown)}{move}.")

    def task_example(self, i: int) -> tuple[str, int, str]:
        """The task file's row: the position's question with its winning move (the world is asked as questions)."""
        return f"{self.prompt(i)}{self.answer(i)}.", 1, self.question_group(i)

    def visible_lines(self, lines: list[str], fraction: float) -> list[str]:
        """The other players' lines about every position; the expert's, tagged or not, about the known share only."""
        return visible_by_source(lines, self.known_prompts(fraction))  # known untagged: "-31520="
