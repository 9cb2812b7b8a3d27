"""k-shot prompts: each test item preceded by k worked examples of a training split, with their true labels or a
weak model's (the paper's few-shot prompting baselines).

A demonstration is written as the model will be asked to continue the test item, by the task's kind (w2s.kinds:
a classification text followed by its label token, a question followed by its answer in the task's answer format, a
comparison's prefix followed by its preferred completion). Demonstrations and the test item are joined by a
separator. Each test item has its own k examples, drawn with a seeded generator, none of
them with the test item's own text (a dataset may hold the same text in two splits).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl

from w2s.errors import W2SError

TRUTH = "truth"  # the demonstrations' labels are the training split's ground truth; else a weak model's name


def draw_shots(test_texts: list[str], train_texts: list[str], k: int, seed: int) -> list[list[int]]:
    """For each test text, k distinct rows of the training split (indices) whose text is not the test text, drawn
    from a generator seeded by `seed` (the same draw for every labelling of the demonstrations)."""
    counts = Counter(train_texts)
    allowed = len(train_texts) - max((counts[t] for t in set(test_texts)), default=0)
    if allowed < k:
        raise W2SError(
            f"few_shot.k {k}: the training split has {len(train_texts)} rows, fewer than k besides a test item's "
            "own text"
        )
    rng = np.random.default_rng([seed, 7919])
    shots = []
    for text in test_texts:
        drawn = rng.choice(len(train_texts), size=k, replace=False)
        while any(train_texts[i] == text for i in drawn):
            drawn = rng.choice(len(train_texts), size=k, replace=False)
        shots.append([int(i) for i in drawn])
    return shots


def prompted(
    test: pl.DataFrame, examples: list[str], shots: list[list[int]], separator: str
) -> pl.DataFrame:
    """The test split with each text preceded by its shots' demonstrations, `separator` after each."""
    texts = [
        "".join(examples[i] + separator for i in drawn) + text
        for text, drawn in zip(test["text"], shots, strict=True)
    ]
    return test.with_columns(text=pl.Series(texts, dtype=pl.String))
