"""Pairwise preference tasks (reward modelling): a comparison is a prefix and two completions, one of them preferred.

A comparison dataset's split files hold the prefix (`text`), the two completions (`completion_a`, `completion_b`;
`text + completion` is the whole transcript a reward model scores) and `label` 1 where completion a is the preferred
one. Which completion is a is drawn per row from the row's own random stream (the seed and the row,
w2s.data.splits.row_rng), so position carries no label and the splits balance the two orders 50/50. A source of
comparisons (`pairs`) gives ((prefix, completion_a, completion_b), label). A reward model scores each transcript on
its own; the pair's prediction is sigmoid(r_a - r_b) (w2s.models.reward).
"""

from __future__ import annotations

import random


def ordered(
    prefix: str, preferred: str, other: str, rng: random.Random
) -> tuple[tuple[str, str, str], int]:
    """A comparison with its completions in a random order: label 1 (half the time) puts the preferred first."""
    label = int(rng.random() < 0.5)
    first, second = (preferred, other) if label else (other, preferred)
    return (prefix, first, second), label
