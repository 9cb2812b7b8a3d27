"""The scaling view on hand-made aggregates with known answers, and parameter counts read from checkpoints."""

from __future__ import annotations

import polars as pl
import pytest
import torch
from safetensors.torch import save_file

from w2s.analysis.analysis_plots import plot_scaling
from w2s.analysis.scaling import median_over_datasets, model_sizes, scaling_table
from w2s.analysis.summary import aggregate, runs_table
from w2s.errors import W2SError
from w2s.version import checkpoint_parameters


def test_parameter_count_from_safetensors_headers(tmp_path):
    save_file(
        {"a": torch.zeros(3, 4), "b": torch.zeros(5)},
        tmp_path / "model.safetensors",
        metadata={"format": "pt"},
    )
    save_file({"head": torch.zeros(2, 4)}, tmp_path / "head.safetensors")
    (tmp_path / "config.json").write_text("{}")
    assert checkpoint_parameters(tmp_path) == 12 + 5 + 8


def records(accuracies: dict, n_params: dict, dataset: str = "d") -> list[dict]:
    """metrics records of one seed: weak and ceiling accuracies by model, a student per (weak, strong)."""
    out = []
    for model, accuracy in accuracies["weak"].items():
        out.append(
            {
                "role": "weak",
                "dataset": dataset,
                "seed": 0,
                "model": model,
                "accuracy": accuracy,
                "n": 10,
                "n_params": n_params[model],
            }
        )
    for model, accuracy in accuracies["ceiling"].items():
        out.append(
            {
                "role": "ceiling",
                "dataset": dataset,
                "seed": 0,
                "model": model,
                "accuracy": accuracy,
                "n": 10,
                "n_params": n_params[model],
            }
        )
    for (weak, strong), accuracy in accuracies["student"].items():
        out.append(
            {
                "role": "student",
                "dataset": dataset,
                "seed": 0,
                "model": strong,
                "weak": weak,
                "loss": "xent",
                "accuracy": accuracy,
                "n": 10,
            }
        )
    return out


ACCURACIES = {
    "weak": {"small": 0.6, "medium": 0.7},
    "ceiling": {"medium": 0.8, "large": 0.9},
    "student": {("small", "medium"): 0.7, ("small", "large"): 0.75, ("medium", "large"): 0.85},
}
PARAMS = {"small": 10, "medium": 100, "large": 1000}


def test_sizes_are_parameters_unless_every_model_gives_compute():
    recs = records(ACCURACIES, PARAMS)
    assert model_sizes(recs, {"small": None, "medium": 2.0, "large": 3.0}) == (
        {"small": 10.0, "medium": 100.0, "large": 1000.0},
        "parameters",
    )
    assert model_sizes(recs, {"small": 1.0, "medium": 2.0, "large": 3.0}) == (
        {"small": 1.0, "medium": 2.0, "large": 3.0},
        "compute",
    )
    old = [{k: v for k, v in r.items() if k != "n_params"} for r in recs]
    with pytest.raises(W2SError, match="the weak run of 'small' .* records no parameter count"):
        model_sizes(old, {"small": None, "medium": None, "large": None})


def test_the_table_keeps_every_method_but_strong_to_strong_with_sizes_and_pgr(tmp_path):
    recs = records(ACCURACIES, PARAMS) + [
        {
            "role": "student",
            "dataset": "d",
            "seed": 0,
            "model": "large",
            "weak": "large",
            "loss": "xent",
            "accuracy": 0.9,
            "n": 10,
        },  # strong-to-strong control: not in the scaling view
        {
            "role": "ceiling",
            "dataset": "d",
            "seed": 0,
            "model": "large",
            "accuracy": 0.9,
            "n": 10,
            "early_stopping": "oracle",
        },
    ]
    recs += [
        {"role": "weak", "dataset": "d", "seed": 0, "model": "large", "accuracy": 0.9, "n": 10},
        {
            "role": "weak",
            "dataset": "d",
            "seed": 0,
            "model": "large",
            "accuracy": 0.9,
            "n": 10,
            "early_stopping": "oracle",
        },
        {
            "role": "student",
            "dataset": "d",
            "seed": 0,
            "model": "large",
            "weak": "small",
            "loss": "xent",
            "accuracy": 0.6,
            "n": 10,
            "early_stopping": "oracle",
        },
        {
            "role": "weak",
            "dataset": "d",
            "seed": 0,
            "model": "small",
            "accuracy": 0.6,
            "n": 10,
            "early_stopping": "oracle",
        },
    ]
    sizes, axis = model_sizes([r for r in recs if "n_params" in r], {"small": None})
    table = scaling_table(aggregate(runs_table(recs)), sizes, axis)
    assert table.select("weak", "strong", "method").rows() == [
        ("small", "large", "early stop oracle")
    ] + [
        (weak, strong, "finetune, final model")
        for weak, strong in (("small", "medium"), ("small", "large"), ("medium", "large"))
    ]  # no large -> large
    plain = table.filter(pl.col("method") == "finetune, final model")
    assert plain["strong_size"].to_list() == [100.0, 1000.0, 1000.0] and plain[
        "weak_size"
    ].to_list() == [10.0, 10.0, 100.0]
    assert plain["pgr_mean"].to_list() == pytest.approx(
        [0.5, 0.5, 0.75]
    )  # (0.75 - 0.6) / (0.9 - 0.6) = 0.5
    assert table["pgr_mean"][0] == pytest.approx(0.0)  # the oracle student: 0.6, as its weak model
    plot_scaling(table, "xent", tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(W2SError, match="no scaling rows for loss 'logconf'"):
        plot_scaling(table, "logconf", tmp_path / "l.png")


def test_the_median_over_datasets(tmp_path):
    recs = records(ACCURACIES, PARAMS, "a") + records(ACCURACIES, PARAMS, "b")
    changed = {**ACCURACIES, "student": {**ACCURACIES["student"], ("small", "large"): 0.9}}
    recs += records(changed, PARAMS, "c")
    sizes, axis = model_sizes(recs, {})
    table = scaling_table(aggregate(runs_table(recs)), sizes, axis)
    median = median_over_datasets(table)
    row = median.filter((pl.col("weak") == "small") & (pl.col("strong") == "large")).row(
        0, named=True
    )
    assert row["n_datasets"] == 3 and row["pgr_mean"] == pytest.approx(0.5)  # 0.5, 0.5, 1.0
    plot_scaling(table, "xent", tmp_path / "s.png")  # with a median row
    assert (tmp_path / "s.png").stat().st_size > 1000
