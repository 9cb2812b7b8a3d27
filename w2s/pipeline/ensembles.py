"""Ensemble supervisors: several weak models' labels combined into one supervisor's (config key `ensembles`).

Each member labels strong_train and predicts the test split as any weak model does; the ensemble's p(1) for a row
is the mean of its members' (`weighting: mean`), or a logistic regression of the truth on their log-odds fitted on
the validation split's ground truth, which the members label for it (`weighting: fitted`: the weights say whom to
trust, learnt where no student trains). The ensemble writes a labels file of strong_train that records itself as
the weak model, as a member's does, and test predictions and metrics as a weak run (role weak), so its students,
summary rows and analyses are a weak model's.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.errors import W2SError
from w2s.io import write_parquet
from w2s.records.predictions import prediction_table, read_split, write_scored

WEIGHTINGS = ("mean", "fitted")  # config key ensembles.<name>.weighting
EPS = 1e-6
L2 = 1e-2  # a little shrinkage: a few hundred validation rows fit a handful of weights


def log_odds(p1: np.ndarray) -> np.ndarray:
    p = np.clip(p1, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def fit_weights(p1s: np.ndarray, labels: np.ndarray, steps: int = 50) -> np.ndarray:
    """Weights (one per member, then the intercept) of a logistic regression of `labels` on the members' log-odds
    (`p1s`: rows x members), by Newton's method with a small L2 penalty on the member weights."""
    x = np.column_stack([log_odds(p1s), np.ones(len(p1s))])
    w = np.zeros(x.shape[1])
    penalty = np.diag([L2] * p1s.shape[1] + [0.0])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - labels) / len(x) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x / len(x) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def combine(p1s: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """The ensemble's p(1) from its members' (rows x members): their mean, or the fitted regression's."""
    if weights is None:
        return p1s.mean(axis=1)
    return 1 / (1 + np.exp(-(log_odds(p1s) @ weights[:-1] + weights[-1])))


def members_p1(paths: list[str], members: list[str]) -> tuple[pl.DataFrame, np.ndarray]:
    """The first member's table (ids, texts, truth, groups) and every member's p(1) of the same rows, in order."""
    tables = [read_split(path, "soft_label") for path in paths]
    for member, path, table in zip(members, paths, tables, strict=True):
        if table["id"].to_list() != tables[0]["id"].to_list():
            raise W2SError(
                f"{path}: member {member}'s rows are not {members[0]}'s ({paths[0]}); rerun the members"
            )
    return tables[0], np.column_stack([t["soft_label"].to_numpy() for t in tables])


def ensemble_job(
    members: list[str],
    weighting: str,
    labels: list[str],
    test: list[str],
    validation: list[str],
    out: dict,
    info: dict,
) -> None:
    """Rule combine_ensemble: the ensemble's labels of strong_train (`out["labels"]`, recording `info` as a member's
    labels record themselves; of the validation split too where `out` asks), and its test predictions and metrics
    (a weak run's)."""
    weights = None
    if weighting == "fitted":
        table, p1s = members_p1(validation, members)
        weights = fit_weights(p1s, table["label"].to_numpy().astype(float))
        fitted = ", ".join(f"{m} {w:.3f}" for m, w in zip(members, weights, strict=False))
        print(
            f"weights fitted on {table.height} validation rows: {fitted}, intercept {weights[-1]:.3f}"
        )
    record = {"members": ",".join(members), "weighting": weighting}
    table, p1s = members_p1(labels, members)
    write_parquet(
        prediction_table(table, combine(p1s, weights)),
        out["labels"],
        {**info, "split": "strong_train", **record},
    )
    if "validation_labels" in out:  # what its students stop early by (early_stopping weak_val)
        table, p1s = members_p1(validation, members)
        write_parquet(
            prediction_table(table, combine(p1s, weights)),
            out["validation_labels"],
            {**info, "split": "validation", **record},
        )
    table, p1s = members_p1(test, members)
    record = {"members": members, "weighting": weighting}
    if weights is not None:
        record["weights"] = [float(w) for w in weights]
    write_scored(
        prediction_table(table, combine(p1s, weights)),
        out,
        {
            "dataset": info["dataset"],
            "seed": info["seed"],
            "role": "weak",
            "model": info["weak_model"],
        },
        **record,
    )
