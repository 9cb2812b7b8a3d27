"""The imitation analysis on hand-made predictions with known answers."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import polars as pl
import pytest

from w2s.analysis.agreement import agreement_table
from w2s.analysis.label_plots import plot_agreement
from w2s.errors import W2SError
from w2s.io import write_parquet
from w2s.records.predictions import prediction_table

LABELS = [1, 0, 1, 0, 1, 0, 1, 0]
WEAK_P1 = [
    0.9,
    0.2,
    0.3,
    0.8,
    0.7,
    0.1,
    0.4,
    0.6,
]  # right on rows 0, 1, 4, 5; wrong on rows 2, 3, 6, 7


def predictions(tmp_path, name: str, p1: list[float]):
    frame = pl.DataFrame(
        {
            "id": [f"t:{i}" for i in range(8)],
            "text": [f"x{i}" for i in range(8)],
            "label": LABELS,
            "group": ["all"] * 8,
        }
    )
    write_parquet(prediction_table(frame, np.array(p1)), tmp_path / f"{name}.parquet")
    return tmp_path / f"{name}.parquet"


def run(tmp_path, name: str, p1: list[float], kind: str = "student") -> dict:
    return {
        "dataset": "d",
        "seed": 0,
        "weak": "s",
        "strong": "l",
        "role": kind,
        "loss": "" if kind == "ceiling" else name,
        "chain": "",
        "predictions": predictions(tmp_path, name, p1),
        "weak_predictions": predictions(tmp_path, "weak", WEAK_P1),
    }


def test_agreement_where_the_weak_model_was_right_and_wrong(tmp_path):
    copy = run(
        tmp_path, "copy", [p - 0.05 if p > 0.5 else p + 0.05 for p in WEAK_P1]
    )  # the weak answers exactly
    truth = run(tmp_path, "truth", [0.99 if y else 0.01 for y in LABELS], "ceiling")  # always right
    opposite = run(tmp_path, "opposite", [1 - p for p in WEAK_P1])  # never the weak answer
    table = agreement_table([copy, truth, opposite])
    rows = {r["loss"] or r["role"]: r for r in table.iter_rows(named=True)}
    assert (
        rows["copy"]["agreement"],
        rows["copy"]["agreement_weak_right"],
        rows["copy"]["agreement_weak_wrong"],
    ) == (1.0, 1.0, 1.0)
    assert (rows["ceiling"]["agreement_weak_right"], rows["ceiling"]["agreement_weak_wrong"]) == (
        1.0,
        0.0,
    )
    ceiling = rows["ceiling"]
    assert ceiling["agreement"] == 0.5 and ceiling["n_weak_right"] == ceiling["n_weak_wrong"] == 4
    assert rows["opposite"]["agreement"] == 0.0
    plot_agreement(table, "d", ["s", "l"], tmp_path / "agreement.png")
    assert matplotlib.image.imread(tmp_path / "agreement.png").shape[0] > 100


def test_predictions_of_different_examples_are_refused(tmp_path):
    other = run(tmp_path, "copy", WEAK_P1)
    frame = pl.read_parquet(other["predictions"]).with_columns(pl.col("id").str.replace("t:", "u:"))
    frame.write_parquet(other["predictions"])
    with pytest.raises(W2SError, match="the two files predict different examples"):
        agreement_table([other])


def test_imitation_by_cell_is_the_mean_over_seeds_beside_the_ceilings():
    from w2s.analysis.agreement import AGREEMENT_SCHEMA, imitation_by_cell

    def row(seed, role, loss, wrong):
        return {
            "dataset": "d",
            "seed": seed,
            "weak": "s",
            "strong": "l",
            "role": role,
            "loss": loss,
            "chain": "",
            "n": 8,
            "agreement": 0.5,
            "n_weak_right": 4,
            "agreement_weak_right": 1.0,
            "n_weak_wrong": 4,
            "agreement_weak_wrong": wrong,
        }

    table = pl.DataFrame(
        [
            row(0, "student", "xent", 1.0),
            row(1, "student", "xent", 0.5),
            row(0, "student", "logconf", 0.25),
            row(0, "ceiling", "", 0.0),
            row(1, "ceiling", "", 0.5),
        ],
        schema=AGREEMENT_SCHEMA,
    )
    cells = {r["loss"]: r for r in imitation_by_cell(table).iter_rows(named=True)}
    assert set(cells) == {"xent", "logconf"}  # the ceiling is the reference, not a cell
    xent = cells["xent"]
    assert (xent["n_seeds"], xent["imitation_mean"]) == (2, 0.75)
    assert xent["imitation_sem"] == pytest.approx(np.std([1.0, 0.5], ddof=1) / np.sqrt(2))
    assert xent["ceiling_imitation_mean"] == 0.25
    assert cells["logconf"]["imitation_sem"] is None  # one seed
