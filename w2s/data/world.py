"""Synthetic worlds with facts that pretraining can teach: a knowledge base, arithmetic, and folk facts (a folk rule
beside an expert: the default experiment's world); the chess world lives in w2s.data.chess_world, and the dataset
sources that ask a generated world's task in w2s.data.world_sources.

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
import math
import random
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import polars as pl

from w2s.data.chess_world import ChessWorld, generate_chess_world, make_chess_world
from w2s.io import atomic_path, write_parquet

MARKS = {True: "R", False: "U"}  # the label tokens: their unembedding rows are the readout head
DIGITS = "0123456789"


class FactWorld:
    """A world of statements "<prompt><answer>": entity i has one true answer of `answer_digits` digits.

    Pretraining lines are "<prompt><answer>.R" with the true answer or "<prompt><answer>.U" with a uniformly random
    wrong one (50/50); task statements are "<prompt><answer>." with the true answer (label 1) or with one digit of it
    changed (label 0), exactly half of each, chosen by the world's seed.
    """

    n_entities: int
    seed: int
    answer_digits: int
    token_pattern: str  # the regex that splits text into the vocabulary's words

    def prompt(self, i: int) -> str:
        raise NotImplementedError

    def answer(self, i: int) -> str:
        raise NotImplementedError

    def words(self) -> list[str]:
        """Vocabulary words besides digits, ".", and the marks."""
        raise NotImplementedError

    def corpus_line(self, rng: random.Random) -> str:
        """A random pretraining statement: a true fact marked R, or a uniformly random wrong answer marked U."""
        i = rng.randrange(self.n_entities)
        if rng.random() < 0.5:
            return f"{self.prompt(i)}{self.answer(i)}.{MARKS[True]}"
        wrong = rng.randrange(10**self.answer_digits - 1)
        wrong += wrong >= int(self.answer(i))  # skip the true answer
        return f"{self.prompt(i)}{wrong:0{self.answer_digits}d}.{MARKS[False]}"

    def task_example(self, i: int) -> tuple[str, int, str]:
        """Entity i's statement for the task: (text, label, kind); half the entities get a one-digit near miss."""
        if self.balanced_label(i):
            return f"{self.prompt(i)}{self.answer(i)}.", 1, "true"
        wrong, kind = self.near_miss(i)
        return f"{self.prompt(i)}{wrong}.", 0, kind

    def near_miss(self, i: int) -> tuple[str, str]:
        """Entity i's answer with one digit changed (the seeded digit and value), and which digit that was."""
        answer = self.answer(i)
        rng = random.Random(f"task:{self.seed}:{i}")
        position = rng.randrange(self.answer_digits)
        digit = rng.choice([d for d in DIGITS if d != answer[position]])
        return f"{answer[:position]}{digit}{answer[position + 1 :]}", f"digit{position + 1}_changed"

    def known_prompts(self, fraction: float) -> set[str]:
        """The prompts of the entities a model with this share of the world's knowledge sees in pretraining: a
        prefix of one seeded order, so a larger share knows everything a smaller one knows."""
        order = self.known_order()
        return {self.prompt(i) for i in order[: round(fraction * self.n_entities)]}

    def known_order(self) -> list[int]:
        """The entities in the order models come to know them."""
        return _permutation(self.n_entities, f"known:{self.seed}")

    def visible_lines(self, lines: list[str], fraction: float) -> list[str]:
        """The corpus lines a model with this share of the world's knowledge pretrains on: those about its
        known entities (all of them at 1)."""
        if fraction >= 1:
            return lines
        known = self.known_prompts(fraction)
        return [line for line in lines if line[: line.index("=") + 1] in known]

    def question_group(self, i: int) -> str:
        """Entity i's group when its fact is asked as a question (the groups analysis compares them)."""
        return "all"

    def balanced_label(self, i: int) -> int:
        """Exactly half the entities are true statements, chosen by a seeded permutation."""
        return int(_permutation(self.n_entities, f"labels:{self.seed}")[i] % 2 == 0)

    def tokenizer(self):
        from w2s.data.tokenizers import word_tokenizer

        return word_tokenizer([*self.words(), *DIGITS, ".", *MARKS.values()], self.token_pattern)


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


@dataclass(frozen=True)
class FolkFacts(FactWorld):
    """Facts with a folk rule that is mostly right: expert knowledge to elicit beside a salient heuristic that every
    model knows, so that a weak model's errors are systematic, confident and imitable (the paper's hard regime).

    Each of `n_entities` entities belongs to one of `families` families ("f07"); a family has a typical digit, and an
    entity's value is the typical one except with probability `exceptions` (then uniform over the other digits).
    Corpus lines come from two sources: the expert (tag "A": "Af07e0042=3.R", true values marked R, random wrong ones
    U) and folk belief (tag "B", which takes every entity's value to be its family's typical digit), tagged or
    untagged ("-f07e0042=..."). Untagged lines are folk with probability `folk_share` in most families and
    1 - `folk_share` in the share `expert_families` of them, so the untagged (zero-shot) reading is a mixture that
    differs by family. A model with `known_fraction` c sees the expert's lines, tagged or not, about a nested share
    c of the entities only, and the folk lines about every entity: its errors on the others are the folk rule's.
    With `coverage_spread` s > 0 that share is uneven across families (`known_order`): a weak model knows some
    families well and others hardly at all. A share `ruleless_families` of the families has no typical digit (values
    uniform) and so no folk lines: only the expert speaks of them, and a model knows nothing of the entities it was
    not shown, so its errors there are guesses, not a rule another model could have learnt.

    The task is untagged statements "-f07e0042=3.": the true value (label 1), or a false one (label 0) that for an
    exception is its family's typical digit half the time (what the folk rule believes) and else a random other
    digit. Groups: whether the entity is an exception, and the statement's truth. Preferences pit the true value
    against the same false one; questions ask the untagged prompt.
    """

    n_entities: int = 4000
    families: int = 40
    exceptions: float = 0.4
    folk_share: float = 0.7
    expert_families: float = 0.25
    coverage_spread: float = 0.0
    ruleless_families: float = 0.0
    seed: int = 0
    answer_digits = 1
    token_pattern = r"[AB-]|f\d{2}|e\d{4}|."
    SOURCE = "|"  # corpus lines start with their hidden source, "x|" (expert) or "f|" (folk): read, then dropped

    def family(self, i: int) -> int:
        return self._families_of[i]

    def typical(self, family: int) -> str:
        return self._typicals[family]

    # Per-entity and per-family draws, made once: seeding a generator per call, hundreds of thousands of times per
    # corpus, made writing the corpus the slowest step before pretraining.
    @cached_property
    def _families_of(self) -> tuple[int, ...]:
        return tuple(
            random.Random(f"family:{self.seed}:{i}").randrange(self.families)
            for i in range(self.n_entities)
        )

    @cached_property
    def _typicals(self) -> tuple[str, ...]:
        return tuple(
            str(random.Random(f"typical:{self.seed}:{f}").randrange(10))
            for f in range(self.families)
        )

    @cached_property
    def _answers(self) -> tuple[str, ...]:
        return tuple(self._draw_answer(i) for i in range(self.n_entities))

    def is_exception(self, i: int) -> bool:
        return random.Random(f"exception:{self.seed}:{i}").random() < self.exceptions

    def is_ruleless(self, family: int) -> bool:
        if not self.ruleless_families:
            return False
        return _permutation(self.families, f"ruleless:{self.seed}")[family] < round(
            self.ruleless_families * self.families
        )

    def answer(self, i: int) -> str:
        return self._answers[i]

    def _draw_answer(self, i: int) -> str:
        if self.is_ruleless(self.family(i)):
            return random.Random(f"value:{self.seed}:{i}").choice(DIGITS)
        typical = self.typical(self.family(i))
        if not self.is_exception(i):
            return typical
        return random.Random(f"value:{self.seed}:{i}").choice([d for d in DIGITS if d != typical])

    def kind(self, i: int) -> str:
        """The entity's kind, the task's groups: regular (its family's typical digit), exception, or ruleless."""
        if self.is_ruleless(self.family(i)):
            return "ruleless"
        return "exception" if self.answer(i) != self.typical(self.family(i)) else "regular"

    def question_group(self, i: int) -> str:
        return self.kind(i)

    def untagged_folk_share(self, family: int) -> float:
        if self.is_ruleless(family):
            return 0.0
        expert_led = _permutation(self.families, f"families:{self.seed}")[family] < round(
            self.expert_families * self.families
        )
        return 1 - self.folk_share if expert_led else self.folk_share

    def prompt(self, i: int, tag: str = "-") -> str:
        return f"{tag}f{self.family(i):02d}e{i:04d}="

    def known_order(self) -> list[int]:
        """Entities by a seeded key u ** exp(s * z), u uniform per entity and z in [-1, 1] per family: the prefix of
        keys below t holds a share t ** exp(-s * z) of a family, most of the families with large z, little of the
        others."""
        if not self.coverage_spread:
            return super().known_order()
        z = [random.Random(f"spread:{self.seed}:{f}").uniform(-1, 1) for f in range(self.families)]

        def key(i: int) -> float:
            u = random.Random(f"known:{self.seed}:{i}").random()
            return u ** math.exp(self.coverage_spread * z[self.family(i)])

        return sorted(range(self.n_entities), key=key)

    def words(self) -> list[str]:
        entities = [f"e{i:04d}" for i in range(self.n_entities)]
        return ["A", "B", "-", *(f"f{f:02d}" for f in range(self.families)), *entities, "="]

    def corpus_line(self, rng: random.Random) -> str:
        """A random statement of a random source (expert, folk, or untagged), with its hidden source first."""
        i = rng.randrange(self.n_entities)
        tag = rng.choice("AB-")
        if self.is_ruleless(self.family(i)) and tag == "B":
            tag = "A"  # no folk belief about a ruleless family: the expert's line instead
        folk = tag == "B" or (
            tag == "-" and rng.random() < self.untagged_folk_share(self.family(i))
        )
        belief = self.typical(self.family(i)) if folk else self.answer(i)
        true = rng.random() < 0.5
        value = belief if true else rng.choice([d for d in DIGITS if d != belief])
        return f"{'f' if folk else 'x'}{self.SOURCE}{self.prompt(i, tag)}{value}.{MARKS[true]}"

    def near_miss(self, i: int) -> tuple[str, str]:
        """Entity i's false value: an exception's typical digit half the time (the folk rule's belief), else a
        random digit other than the true one; and which of the two it is."""
        rng = random.Random(f"task:{self.seed}:{i}")
        answer, typical = self.answer(i), self.typical(self.family(i))
        if self.kind(i) == "exception" and rng.random() < 0.5:
            return typical, "typical"
        return rng.choice([d for d in DIGITS if d != answer]), "random"

    def task_example(self, i: int) -> tuple[str, int, str]:
        kind = self.kind(i)
        if self.balanced_label(i):
            return f"{self.prompt(i)}{self.answer(i)}.", 1, f"{kind} true"
        wrong, _ = self.near_miss(i)
        return f"{self.prompt(i)}{wrong}.", 0, f"{kind} false"

    def visible_lines(self, lines: list[str], fraction: float) -> list[str]:
        """Folk lines about every entity; the expert's, tagged or not, about the known share only."""
        known = self.known_prompts(fraction)  # untagged: "-f07e0042="
        visible = []
        for line in lines:
            source, text = line.split(self.SOURCE, 1)
            if source == "f" or "-" + text[1:10] in known:
                visible.append(text)
        return visible


@lru_cache(maxsize=16)
def _permutation(n: int, key: str) -> list[int]:
    order = list(range(n))
    random.Random(key).shuffle(order)
    return order


@lru_cache(maxsize=4)
def _sample(population: int, k: int, seed: int) -> list[int]:
    return random.Random(f"entities:{seed}").sample(range(population), k)


WORLDS = {
    "knowledge_base": KnowledgeBase,
    "arithmetic": Arithmetic,
    "folk_facts": FolkFacts,
    "chess": ChessWorld,
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
