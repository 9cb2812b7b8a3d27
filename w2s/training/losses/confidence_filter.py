"""Weak-label filtering by confidence: the student learns only the weak labels its supervisor was surest of.

A student copies its supervisor's mistakes most where it learns from labels the supervisor barely believed; the
weak model's confidence |2p - 1| is a free signal of which labels those are. This loss drops the `contamination`
share of strong_train's weak labels with the lowest confidence, once, before training, and trains soft-label
cross-entropy on the rest. (EleutherAI/w2s filters a `contamination` share too, choosing the rows by the
consistency of labels among neighbours in activation space - its `topofilter` - rather than by confidence.)
"""

from __future__ import annotations

import numpy as np

from w2s.training.losses.xent import XentLoss


class ConfidenceFilterLoss(XentLoss):
    type = "confidence_filter"
    answers = False  # it ranks soft labels; a generated answer has none
    options = {
        "contamination": {
            "type": "number",
            "minimum": 0,
            "exclusiveMaximum": 1,
            "description": "share of the weak labels dropped, the least confident first (0.2 by default)",
        }
    }

    def __init__(self, contamination: float = 0.2):
        self.contamination = contamination

    def keep(self, targets: np.ndarray) -> np.ndarray:
        """The rows to learn from: all but the `contamination` share of least confident labels (ties broken by
        row order, so the count is exact and the choice reproducible)."""
        confidence = np.abs(2 * np.asarray(targets, dtype=np.float64) - 1)
        dropped = int(round(self.contamination * len(confidence)))
        order = np.argsort(confidence, kind="stable")
        kept = np.ones(len(confidence), dtype=bool)
        kept[order[:dropped]] = False
        return kept
