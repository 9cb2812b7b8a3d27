"""Label quality per group on hand-made predictions with known answers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from w2s.analysis.groups import group_table
from w2s.analysis.label_plots import plot_groups
from w2s.analysis.predictions import prediction_table
from w2s.errors import W2SError
from w2s.io import write_parquet


def predictions(path, correct: list[bool], groups: list[str]) -> str:
    labels = [i % 2 for i in range(len(correct))]
    frame = pl.DataFrame(
        {
            "id": [f"e{i}" for i in range(len(correct))],
            "text": ["t"] * len(correct),
            "label": labels,
            "group": groups,
        }
    )
    p1 = np.array([0.8 if (label == 1) == ok else 0.2 for label, ok in zip(labels, correct)])
    write_parquet(prediction_table(frame, p1), path)
    return str(path)


GROUPS = ["true"] * 4 + ["changed"] * 6


def run(path, name: str, correct: list[bool], **fields) -> dict:
    return {
        "dataset": "d",
        "seed": 0,
        "model": "w",
        "role": "weak",
        "weak": "",
        "loss": "",
        "chain": "",
        **fields,
        "predictions": predictions(path / f"{name}.parquet", correct, GROUPS),
    }


def test_accuracy_within_each_group(tmp_path):
    weak = run(tmp_path, "weak", [True] * 4 + [True, False, False, False, True, False])
    student = run(
        tmp_path, "student", [True] * 10, model="s", role="student", weak="w", loss="xent"
    )
    ceiling = run(
        tmp_path, "ceiling", [True, True, False, True] + [True] * 6, model="s", role="ceiling"
    )
    labels = run(tmp_path, "labels", [False] * 10, role="weak_labels")
    table = group_table([weak, student, ceiling, labels])
    got = {(r["role"], r["group"]): (r["n"], r["accuracy"]) for r in table.iter_rows(named=True)}
    assert got == {
        ("weak", "true"): (4, 1.0),
        ("weak", "changed"): (6, pytest.approx(2 / 6)),
        ("student", "true"): (4, 1.0),
        ("student", "changed"): (6, 1.0),
        ("ceiling", "true"): (4, 0.75),
        ("ceiling", "changed"): (6, 1.0),
        ("weak_labels", "true"): (4, 0.0),
        ("weak_labels", "changed"): (6, 0.0),
    }
    plot_groups(table, "d", ["w", "s"], tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(W2SError, match="no group rows for dataset 'x'"):
        plot_groups(table, "x", ["w", "s"], tmp_path / "x.png")
