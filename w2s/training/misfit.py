"""Misfit: how far a trained student ends from the labels it was taught, on its own training rows - the mean
KL(target || student) in nats over the two-class view every run trains in (w2s.training.losses). For a
classification task the target is the weak soft label (the truth on a ground-truth budget's rows); for generated
answers it is the supervisor's answer with probability 1, so the misfit is the answer's mean negative per-token
log-probability. The theory of weak-to-strong gains (Charikar, Pabbaraju & Shiragur 2024) relates a student's gain
over its supervisor to this misfit (under its assumptions, for squared loss, the gain is at least the misfit): a
student that fits its labels exactly has gained nothing over them.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def kl_misfit(p1: np.ndarray, targets: np.ndarray) -> float:
    """Mean over rows of KL(t || p) for the targets' p(1) t and the student's p(1) p (0 log 0 = 0)."""
    p = np.clip(np.asarray(p1, dtype=np.float64), EPS, 1 - EPS)
    t = np.asarray(targets, dtype=np.float64)

    def part(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(a > 0, a * (np.log(np.maximum(a, EPS)) - np.log(b)), 0.0)

    return float(np.mean(part(t, p) + part(1 - t, 1 - p)))
