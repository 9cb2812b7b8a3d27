"""What every fact world shares: entities with one true answer each, a corpus of marked statements about them, the
task's statements (true, or a near miss), and which entities a model with a share of the world's knowledge knows.

Everything is a pure function of the world's seed, so corpus, task and tokenizer agree across jobs.
"""

from __future__ import annotations

import random
from functools import lru_cache

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
        return permutation(self.n_entities, f"known:{self.seed}")

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
        return int(permutation(self.n_entities, f"labels:{self.seed}")[i] % 2 == 0)

    def vocabulary(self) -> list[str]:
        """Every word of the world's tokenizer."""
        return [*self.words(), *DIGITS, ".", *MARKS.values()]

    def tokenizer(self):
        from w2s.data.tokenizers import word_tokenizer

        return word_tokenizer(self.vocabulary(), self.token_pattern)


SOURCE, EXPERT = (
    "|",
    "x",
)  # a sourced corpus line starts with its hidden source and "|"; "x" is the expert


def sourced(source: str, text: str) -> str:
    """A corpus line with its hidden source first (read by `visible_by_source`, then dropped)."""
    return f"{source}{SOURCE}{text}"


def visible_by_source(lines: list[str], known: set[str]) -> list[str]:
    """Of sourced corpus lines, stripped of their source: every other source's, and the expert's, tagged or not,
    about the `known` untagged prompts ("-" and the text up to its "=") only."""
    visible = []
    for line in lines:
        source, text = line.split(SOURCE, 1)
        if source != EXPERT or "-" + text[1 : text.index("=") + 1] in known:
            visible.append(text)
    return visible


@lru_cache(maxsize=16)
def permutation(n: int, key: str) -> list[int]:
    order = list(range(n))
    random.Random(key).shuffle(order)
    return order
