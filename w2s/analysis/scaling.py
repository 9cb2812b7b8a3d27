"""The scaling view (the paper's main figure): test accuracy and PGR of the weak-to-strong students against the strong
model's size, one line per weak model and method (the plain one: finetuned on the weak labels, final model). A
model's size is its config `compute` where every model of the grid gives one (pretraining FLOPs, or in the synthetic
world the share of facts it was pretrained on), else its parameter count, read from its checkpoints when it trained."""

from __future__ import annotations

import polars as pl

from w2s.analysis.summary import method_label
from w2s.errors import W2SError

SCALING_SCHEMA = {
    "dataset": pl.String,
    "weak": pl.String,
    "strong": pl.String,
    "loss": pl.String,
    "method": pl.String,  # w2s.analysis.summary.method_label: "finetune, final model" for the plain students
    "weak_size": pl.Float64,
    "strong_size": pl.Float64,
    "size_axis": pl.String,  # "compute" (from the config) or "parameters"
    "n_seeds": pl.Int64,
    "weak_acc_mean": pl.Float64,
    "ceiling_acc_mean": pl.Float64,
    "student_acc_mean": pl.Float64,
    "student_acc_sem": pl.Float64,
    "pgr_mean": pl.Float64,
    "pgr_sem": pl.Float64,
}


def model_sizes(
    records: list[dict], compute: dict[str, float | None]
) -> tuple[dict[str, float], str]:
    """Each model's size and the axis's name: the config's `compute` where every model has one, else the parameter
    counts that weak and ceiling runs' metrics record (`n_params`)."""
    if compute and all(value is not None for value in compute.values()):
        return {model: float(value) for model, value in compute.items()}, "compute"
    sizes = {}
    for record in records:
        if record.get("role") not in ("weak", "ceiling"):
            continue
        if "n_params" not in record:
            raise W2SError(
                f"the {record['role']} run of {record['model']!r} (dataset {record['dataset']!r}, "
                f"seed {record['seed']}) records no parameter count (n_params): its metrics.json was "
                "written by an older version; rerun it with --forcerun, or give every model a `compute`"
            )
        sizes[record["model"]] = float(record["n_params"])
    return sizes, "parameters"


def scaling_table(aggregate: pl.DataFrame, sizes: dict[str, float], axis: str) -> pl.DataFrame:
    """The aggregated rows of every method but the strong-to-strong control (a model is no stronger than itself),
    with the weak and strong models' sizes."""
    rows = []
    for row in aggregate.iter_rows(named=True):
        if row["weak"] == row["strong"]:
            continue
        missing = [m for m in (row["weak"], row["strong"]) if m not in sizes]
        if missing:
            raise W2SError(
                f"no size for model(s) {missing} (dataset {row['dataset']!r}): no weak or ceiling run "
                "recorded one"
            )
        rows.append(
            {
                **{k: row[k] for k in SCALING_SCHEMA if k in row},
                "method": method_label(row),
                "weak_size": sizes[row["weak"]],
                "strong_size": sizes[row["strong"]],
                "size_axis": axis,
            }
        )
    return pl.DataFrame(rows, schema=SCALING_SCHEMA).sort(
        "dataset", "loss", "method", "weak_size", "strong_size"
    )


def median_over_datasets(table: pl.DataFrame) -> pl.DataFrame:
    """The paper's aggregate over tasks: per (weak, strong, loss), the median over datasets of each mean."""
    keys = ["weak", "strong", "loss", "method", "weak_size", "strong_size", "size_axis"]
    means = ["weak_acc_mean", "ceiling_acc_mean", "student_acc_mean", "pgr_mean"]
    return (
        table.group_by(keys)
        .agg(pl.col("dataset").n_unique().alias("n_datasets"), *(pl.col(c).median() for c in means))
        .sort("loss", "method", "weak_size", "strong_size")
    )
