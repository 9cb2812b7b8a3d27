"""The folk-facts world (the default experiment's): expert knowledge to elicit beside a folk rule that every model
knows, so that a weak model's errors are systematic and confident (docs/folk_facts.md)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cached_property

from w2s.data.facts import DIGITS, EXPERT, MARKS, FactWorld, permutation, sourced, visible_by_source


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
        return permutation(self.families, f"ruleless:{self.seed}")[family] < round(
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
        expert_led = permutation(self.families, f"families:{self.seed}")[family] < round(
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
        return sourced("f" if folk else EXPERT, f"{self.prompt(i, tag)}{value}.{MARKS[true]}")

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
        return visible_by_source(
            lines, self.known_prompts(fraction)
        )  # known untagged: "-f07e0042="
