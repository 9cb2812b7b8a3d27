"""A generated world as a dataset's source: its statements (a classification task), its facts as questions whose
answer a model writes (a generative task), or as comparisons of a true and a false completion (reward models).

One row per entity (one per puzzle for a chess world's questions), so the splits drawn from a world are disjoint by
entity. `separator` replaces the "=" between an entity and its value in every text (a fact world's only), and
`values_as: family_tokens` writes a comparison's values in a code (digit d as the folk world's token "f0d", which no
pretraining line puts after "="): the same facts asked in a format the models never read in pretraining, which
generative finetuning can teach them.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from w2s.data.facts import FactWorld
from w2s.data.pairs import ordered
from w2s.data.sources import Source
from w2s.data.world import ENTRY, TASK, load_world


def asked_with(separator: str, text: str) -> str:
    """`text` (a prompt or statement) with the "=" that links its entity to its value replaced by `separator`."""
    return text.replace("=", separator, 1)


def named(separator: str) -> str:
    """What a source's name adds for a separator other than pretraining's."""
    return "" if separator == "=" else f" (separator {separator!r})"


class WorldTaskSource(Source):
    """A world's task file as a dataset source: row i is entity i's statement (one row per entity, so splits drawn
    from it are disjoint by entity); `group` is the kind of statement (true, or which digit was changed)."""

    def __init__(self, world_dir: str | Path, separator: str = "="):
        self.name = str(Path(world_dir) / TASK) + named(separator)
        self.task = pl.read_parquet(Path(world_dir) / TASK)
        self.texts = [asked_with(separator, text) for text in self.task["text"]]
        self.labels = self.task["label"].to_list()
        self.kinds = self.task["kind"].to_list()

    def __len__(self) -> int:
        return len(self.texts)

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        return self.texts[index], self.labels[index]

    def group(self, index: int) -> str:
        return self.kinds[index]


class WorldQuestionSource(Source):
    """A world's facts as questions whose answer a model generates (dataset option format: question): row i is
    entity i's prompt ("e0042=") and its true answer ("17"); one row per entity, as for the statements. A chess
    world's row i is puzzle i: the game so far (`ctx`) and its best move (`target`, trimmed)."""

    answers = True

    def __init__(self, world_dir: str | Path, separator: str = "="):
        self.name = f"{Path(world_dir) / ENTRY} (questions)" + named(separator)
        world = load_world(world_dir)
        if isinstance(world, FactWorld):
            n = world.n_entities
            self.prompts = [asked_with(separator, world.prompt(i)) for i in range(n)]
            self.targets = [world.answer(i) for i in range(n)]
            self.groups = [world.question_group(i) for i in range(n)]
        else:
            task = pl.read_parquet(Path(world_dir) / TASK)
            self.prompts, self.groups = task["ctx"].to_list(), task["Themes"].to_list()
            self.targets = task["target"].str.strip_chars().to_list()

    def __len__(self) -> int:
        return len(self.prompts)

    def example(self, index: int, rng: random.Random) -> tuple[str, str]:
        return self.prompts[index], self.targets[index]

    def group(self, index: int) -> str:
        return self.groups[index]


class WorldPreferenceSource(Source):
    """A world's facts as comparisons (dataset option format: preference, w2s.data.pairs): row i is entity i's
    prompt ("e0042=") with two completions, its true answer and the task's near miss ("7." and "4."), the true one
    preferred; one row per entity, as for the statements; `group` is which digit the near miss changed."""

    pairs = True

    def __init__(self, world_dir: str | Path, separator: str = "=", values_as: str = "digits"):
        self.name = f"{Path(world_dir) / ENTRY} (preferences)" + named(separator)
        if values_as != "digits":
            self.name += f" (values as {values_as})"
        self.world, self.separator, self.values_as = load_world(world_dir), separator, values_as

    def __len__(self) -> int:
        return self.world.n_entities

    def value(self, digits: str) -> str:
        """A completion's value as the comparisons write it: its digits, or each digit d as the token "f0d"."""
        if self.values_as == "digits":
            return digits
        return "".join(f"f0{d}" for d in digits)

    def example(self, index: int, rng: random.Random) -> tuple[tuple[str, str, str], int]:
        wrong, _ = self.world.near_miss(index)
        prompt = asked_with(self.separator, self.world.prompt(index))
        true = f"{self.value(self.world.answer(index))}."
        return ordered(prompt, true, f"{self.value(wrong)}.", rng)

    def group(self, index: int) -> str:
        return self.world.near_miss(index)[1]
