"""Classification metrics from p(1) and 0/1 labels."""

from __future__ import annotations

import numpy as np


def accuracy(p1: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((np.asarray(p1) > 0.5) == (np.asarray(labels) == 1)))


def auroc(p1: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum statistic, ties counted half; NaN if one class is absent."""
    p1, labels = np.asarray(p1, dtype=float), np.asarray(labels) == 1
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(p1, kind="stable")
    ranks = np.empty(len(p1))
    sorted_p = p1[order]
    # average ranks over runs of equal scores
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_p)) + 1]
    ends = np.r_[starts[1:], len(p1)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(p1, labels) -> dict:
    return {"accuracy": accuracy(p1, labels), "auroc": auroc(p1, labels), "n": int(len(labels))}


def answer_metrics(correct, logprob) -> dict:
    """A generative task's metrics: exact-match accuracy, and as `auroc` how well each answer's probability ranks
    right answers above wrong ones (the classification AUROC's place; NaN where all are right or all wrong)."""
    correct = np.asarray(correct, dtype=bool)
    return {
        "accuracy": float(correct.mean()),
        "auroc": auroc(np.exp(np.asarray(logprob, dtype=float)), correct.astype(int)),
        "n": int(len(correct)),
    }
