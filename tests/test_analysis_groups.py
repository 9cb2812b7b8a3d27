"""Label quality per group on hand-made predictions with known answers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from w2s.analysis.groups import group_table
from w2s.analysis.label_plots import plot_groups
from w2s.errors import W2SError
from w2s.io import write_parquet
from w2s.records.predictions import prediction_table


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


def test_pgr_per_group_from_the_means_over_seeds(tmp_path):
    """Group "true": weak 1.0, nothing to recover; group "changed": weak 2/6 (seed 0) and 4/6 (seed 1), ceiling 1,
    student 4/6 and 5/6: PGR of the means (0.75 - 0.5) / (1 - 0.5) = 0.5."""
    from w2s.analysis.groups import group_pgr

    runs = []
    for seed, weak_changed, student_changed in (
        (0, [True, False, False, False, True, False], [True, True, True, False, True, False]),
        (1, [True, True, False, True, True, False], [True, True, True, True, True, False]),
    ):
        folder = tmp_path / str(seed)
        folder.mkdir()
        runs += [
            run(folder, "weak", [True] * 4 + weak_changed, seed=seed),
            run(
                folder,
                "student",
                [True] * 4 + student_changed,
                seed=seed,
                model="s",
                role="student",
                weak="w",
                loss="xent",
            ),
            run(folder, "ceiling", [True] * 10, seed=seed, model="s", role="ceiling"),
            run(folder, "labels", [False] * 10, seed=seed, role="weak_labels"),
        ]
    table = group_pgr(group_table(runs))
    rows = {r["group"]: r for r in table.iter_rows(named=True)}
    assert set(rows) == {"true", "changed"}
    changed = rows["changed"]
    assert (changed["weak"], changed["strong"], changed["loss"], changed["n_seeds"]) == (
        "w",
        "s",
        "xent",
        2,
    )
    assert changed["weak_acc_mean"] == pytest.approx(0.5)
    assert changed["student_acc_mean"] == pytest.approx(0.75)
    assert changed["pgr_of_means"] == pytest.approx(0.5)
    assert rows["true"]["pgr_of_means"] is None  # the ceiling does not beat the weak model there


def test_a_group_whose_gap_is_too_small_for_a_ratio_has_no_pgr():
    from w2s.analysis.groups import GROUPS_SCHEMA, MIN_GROUP_GAP, group_pgr

    def row(role, model, group, accuracy, weak="", loss=""):
        return {"dataset": "d", "seed": 0, "model": model, "role": role, "weak": weak, "loss": loss,
                "chain": "", "group": group, "n": 100, "accuracy": accuracy}  # fmt: skip

    table = pl.DataFrame(
        [
            row("weak", "w", "narrow", 0.90),
            row("ceiling", "s", "narrow", 0.90 + MIN_GROUP_GAP / 2),
            row("student", "s", "narrow", 0.99, weak="w", loss="xent"),
            row("weak", "w", "wide", 0.50),
            row("ceiling", "s", "wide", 0.90),
            row("student", "s", "wide", 0.70, weak="w", loss="xent"),
        ],
        schema=GROUPS_SCHEMA,
    )
    pgrs = {r["group"]: r["pgr_of_means"] for r in group_pgr(table).iter_rows(named=True)}
    assert pgrs["narrow"] is None  # 0.99 against a gap of 0.025 would read as a PGR of 3.6
    assert pgrs["wide"] == pytest.approx(0.5)
