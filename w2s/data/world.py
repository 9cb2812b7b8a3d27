"""The synthetic worlds by type, and a world's files (corpus, task, tokenizer, entry); here the knowledge base and
arithmetic. What fact worlds share is in w2s.data.facts, the folk-facts world (the default experiment's) in
w2s.data.folk_facts, the chess world in w2s.data.chess_world, the levelled-Nim world in w2s.data.nim, and the dataset
sources that ask a world's task in w2s.data.world_sources.

In the knowledge-base world each of `n_entities` entities (one token each, "e0042") has a value of `digits` digits.
Pretraining text states a fact and marks its source: "e0042=17.R" is a reliable (true) statement, "e0042=63.U" an
unreliable one with a uniformly random wrong value. A model that learns the facts can tell R from U after the ".",
and so holds latent knowledge of whether a statement is true. The classification task asks exactly that, without the
mark: "e0042=17." (true) or "e0042=14." (one digit changed, false). A near miss is a wrong value, so the corpus may
state it too, always marked U (with one-digit values, most do appear); never marked R. The arithmetic
world does the same with sums ("07+12=019.").

Everything is a pure function of the world's seed, so corpus, task and tokenizer agree across jobs.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import polars as pl

from w2s.data.chess_world import (
    ChessWorld,
    chess_tokenizer,
    generate_chess_world,
    make_chess_world,
    window_bound,
)
from w2s.data.facts import FactWorld
from w2s.data.folk_facts import FolkFacts
from w2s.data.nim import Nim
from w2s.io import atomic_path, write_parquet


@dataclass(frozen=True)
class KnowledgeBase(FactWorld):
    """Entities "e0042" (one token each) with random values: "e0042=17." Pure memorised knowledge."""

    n_entities: int = 3000
    digits: int = 2
    seed: int = 0
    token_pattern = r"e\d{4}|."

    @property
    def answer_digits(self) -> int:
        return self.digits

    def prompt(self, i: int) -> str:
        return f"e{i:04d}="

    def answer(self, i: int) -> str:
        return self._answers[i]

    @cached_property
    def _answers(self) -> tuple[str, ...]:
        """Every entity's value, drawn once (seeding a generator per call made the corpus the slow part)."""
        return tuple(
            f"{random.Random(f'value:{self.seed}:{i}').randrange(10**self.digits):0{self.digits}d}"
            for i in range(self.n_entities)
        )

    def words(self) -> list[str]:
        return [f"e{i:04d}" for i in range(self.n_entities)] + ["="]


@dataclass(frozen=True)
class Arithmetic(FactWorld):
    """Sums of two `digits`-digit numbers, every character a token: "07+12=019." Entities are distinct operand
    pairs drawn with the seed; a model can learn the rule rather than memorise each fact."""

    n_entities: int = 3000
    digits: int = 2
    seed: int = 0
    token_pattern = r"."

    def __post_init__(self):
        if self.n_entities > 10 ** (2 * self.digits):
            raise ValueError(
                f"n_entities {self.n_entities} exceeds the {10 ** (2 * self.digits)} operand pairs"
            )

    @property
    def answer_digits(self) -> int:
        return self.digits + 1

    def operands(self, i: int) -> tuple[int, int]:
        pair = _sample(10 ** (2 * self.digits), self.n_entities, self.seed)[i]
        return divmod(pair, 10**self.digits)

    def prompt(self, i: int) -> str:
        a, b = self.operands(i)
        return f"{a:0{self.digits}d}+{b:0{self.digits}d}="

    def answer(self, i: int) -> str:
        return f"{sum(self.operands(i)):0{self.answer_digits}d}"

    def words(self) -> list[str]:
        return ["+", "="]


@lru_cache(maxsize=4)
def _sample(population: int, k: int, seed: int) -> list[int]:
    return random.Random(f"entities:{seed}").sample(range(population), k)


WORLDS = {
    "knowledge_base": KnowledgeBase,
    "arithmetic": Arithmetic,
    "folk_facts": FolkFacts,
    "chess": ChessWorld,
    "nim": Nim,
}
CORPUS, TASK, TOKENIZER, ENTRY = "corpus.txt", "task.parquet", "tokenizer", "world.json"


def make_world(entry: dict):
    """The world a config entry `worlds.<name>` describes (corpus_lines is about its files, not the world; a chess
    world's are its corpus games: w2s.data.chess_world)."""
    if entry.get("type") == "chess":
        return make_chess_world(entry)
    world = WORLDS[entry.get("type", "knowledge_base")]
    names = {
        field.name for field in dataclasses.fields(world)
    }  # the schema's defaults fill in other types' keys
    return world(**{k: v for k, v in entry.items() if k in names})


# a fact world's context window in pretraining: its corpus lines and questions are a few tokens each
FACT_WINDOW = 32


def pretraining_tokenizer_and_window(entry: dict) -> tuple:
    """From a world's config entry, before the world exists: the tokenizer its models pretrain with (what
    generate_world saves) and at least the context window pretraining gives them (a fact world's FACT_WINDOW; a
    chess world's is its longest game or puzzle, bounded by its max_plies)."""
    if entry.get("type") == "chess":
        return chess_tokenizer(), window_bound(make_chess_world(entry).max_plies)
    return make_world(entry).tokenizer(), FACT_WINDOW


def load_world(world_dir: str | Path):
    """The world a generated world folder was made from."""
    return make_world(json.loads((Path(world_dir) / ENTRY).read_text()))


def generate_world(entry: dict, out_dir: str | Path) -> None:
    """Write a world's pretraining corpus, its labelled task (one statement per entity, with the kind of error)
    and its tokenizer to `out_dir` (a chess world: its games and puzzles, w2s.data.chess_world)."""
    if entry.get("type") == "chess":
        return generate_chess_world(entry, out_dir, CORPUS, TASK, TOKENIZER, ENTRY)
    world = make_world(entry)
    with atomic_path(out_dir) as tmp:
        tmp.mkdir()
        rng = random.Random(f"corpus:{world.seed}")
        with open(tmp / CORPUS, "w") as corpus:
            corpus.writelines(world.corpus_line(rng) + "\n" for _ in range(entry["corpus_lines"]))
        rows = [(i, *world.task_example(i)) for i in range(world.n_entities)]
        task = pl.DataFrame(
            rows,
            schema={"entity": pl.Int32, "text": pl.Utf8, "label": pl.Int8, "kind": pl.Utf8},
            orient="row",
        )
        write_parquet(task, tmp / TASK)
        world.tokenizer().save_pretrained(tmp / TOKENIZER)
        (tmp / ENTRY).write_text(json.dumps(entry, sort_keys=True) + "\n")
    print(
        f"world {world}: {entry['corpus_lines']} corpus lines, {world.n_entities} task statements",
        flush=True,
    )
