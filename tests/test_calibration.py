"""Calibration on hand-made predictions with known answers."""

from __future__ import annotations

import matplotlib.image
import numpy as np
import polars as pl
import pytest

from w2s.analysis.calibration import (
    calibration_table,
    ece,
    pooled_reliability,
    reliability,
    top_label_ece,
)
from w2s.analysis.label_plots import plot_calibration
from w2s.io import write_parquet
from w2s.records.predictions import prediction_table


def test_a_perfectly_calibrated_set_has_ece_0():
    # in each bin the share of label 1 equals the mean p(1): 0.15 -> 3 of 20, 0.55 -> 11 of 20, 0.95 -> 19 of 20
    p1 = np.repeat([0.15, 0.55, 0.95], 20)
    labels = np.concatenate([np.arange(20) < k for k in (3, 11, 19)]).astype(int)
    assert ece(p1, labels) == pytest.approx(0.0, abs=1e-12)
    bins = reliability(p1, labels)
    assert bins["bin"].to_list() == [1, 5, 9] and bins["n"].to_list() == [20, 20, 20]


def test_ece_of_an_overconfident_model():
    # says 0.95 for everything, right half the time: |0.95 - 0.5| everywhere
    assert ece(np.full(10, 0.95), np.array([1, 0] * 5)) == pytest.approx(0.45)
    # p(1) = 1.0 falls in the last bin, not an eleventh
    assert reliability(np.array([1.0, 0.95]), np.array([1, 1]))["bin"].to_list() == [9]


def test_the_top_label_ece_papers_report_beside_the_ece_over_p1():
    # confidence 0.75 everywhere, right 15 times of 20: calibrated as papers measure it (the predicted class), but
    # label 1 is 0.8 likely where p(1) says 0.75 and 0.3 likely where it says 0.25
    p1 = np.repeat([0.75, 0.25], 10)
    labels = np.array([1] * 8 + [0] * 2 + [1] * 3 + [0] * 7)
    assert top_label_ece(p1, labels) == pytest.approx(0.0, abs=1e-12)
    assert ece(p1, labels) == pytest.approx(0.05)
    # overconfident in the predicted class: 0.9 confident, right half the time, whichever class it predicts
    assert top_label_ece(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 0, 0, 1])) == pytest.approx(
        0.4
    )


def test_the_table_and_diagram_from_predictions_files(tmp_path):
    frame = pl.DataFrame(
        {
            "id": [f"t:{i}" for i in range(40)],
            "text": [f"x{i}" for i in range(40)],
            "label": [i % 2 for i in range(40)],
            "group": ["all"] * 40,
        }
    )
    runs = []
    for run, model, p1 in (
        ("weak", "s", np.full(40, 0.5)),
        ("weak_labels", "s", np.full(40, 0.5)),
        ("ceiling", "l", np.where(np.arange(40) % 2 == 1, 0.9, 0.1)),
        ("student", "l", np.full(40, 0.8)),
    ):
        path = tmp_path / f"{run}.parquet"
        write_parquet(prediction_table(frame, p1), path)
        runs.append(
            {
                "dataset": "d",
                "seed": 0,
                "model": model,
                "role": run,
                "weak": "s" if run == "student" else "",
                "loss": "xent" if run == "student" else "",
                "chain": "",
                "predictions": path,
            }
        )
    table = calibration_table(runs)
    for column in ("ece_p1", "ece_top_label"):  # the two agree on these
        by_run = dict(zip(table["role"], table[column]))
        assert by_run["weak"] == pytest.approx(0.0) and by_run["ceiling"] == pytest.approx(0.1)
        assert by_run["student"] == pytest.approx(0.3)
    plot_calibration(pooled_reliability(runs), "d", ["s", "l"], tmp_path / "calibration.png")
    assert matplotlib.image.imread(tmp_path / "calibration.png").shape[0] > 100


def test_a_grid_of_classification_and_generated_answers_pools_into_one_reliability_table(tmp_path):
    """A label is stored as a small integer and a generative task's `correct` as a bool: their calibration views
    pool into one table (a mixed grid's analyse_calibration once stopped on a schema error, Int64 against Int8)."""
    frame = pl.DataFrame(
        {"id": ["a", "b"], "text": ["x", "y"], "label": [0, 1], "group": ["all", "all"]},
        schema_overrides={"label": pl.Int8},
    )
    answers = pl.DataFrame(
        {
            "id": ["c", "d"],
            "text": ["q1", "q2"],
            "answer": ["1", "2"],
            "generated": ["1", "3"],
            "logprob": [-0.1, -2.0],
            "stopped": [True, True],
            "correct": [True, False],
            "group": ["all", "all"],
        }
    )
    paths = [tmp_path / "classification.parquet", tmp_path / "answers.parquet"]
    write_parquet(prediction_table(frame, np.array([0.3, 0.8])), paths[0])
    write_parquet(answers, paths[1])
    runs = [
        {"dataset": d, "seed": 0, "model": "m", "role": "weak", "weak": "", "loss": "", "chain": ""}
        | {"predictions": path}
        for d, path in zip(("cls", "gen"), paths, strict=True)
    ]
    pooled = pooled_reliability(runs)
    assert set(pooled["dataset"]) == {"cls", "gen"} and pooled["n"].sum() == 4
    assert calibration_table(runs)["accuracy"].to_list() == [1.0, 0.5]
