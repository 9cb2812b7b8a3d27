"""Figures of the analyses over training and scale: the students' trajectories and the scaling view (imitation,
calibration and groups: w2s.analysis.label_plots)."""

from __future__ import annotations

import polars as pl

from w2s.analysis.plots import model_key, nan_values, new_figure, save_figure
from w2s.analysis.scaling import median_over_datasets
from w2s.analysis.summary import sem
from w2s.errors import W2SError

PANELS = (
    ("test_accuracy", "test accuracy"),
    ("test_agreement", "agreement with the weak model\n(test split)"),
    ("train_agreement", "agreement with the training labels\n(batches as trained)"),
)


def mean_sem(frame: pl.DataFrame, by: list[str], columns: list[str]) -> pl.DataFrame:
    return (
        frame.group_by(by)
        .agg(
            *(pl.col(c).mean().alias(f"{c}_mean") for c in columns),
            *(sem(c).alias(f"{c}_sem") for c in columns),
        )
        .sort(by)
    )


def pairs_in_order(rows: pl.DataFrame, model_order: list[str]) -> list[tuple[str, str, str]]:
    key = model_key(model_order)
    return sorted(
        rows.select("weak", "strong", "chain").unique().iter_rows(),
        key=lambda g: (key(g[0]), key(g[1]), g[2]),
    )


def plot_trajectories(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """One column per (weak, strong) pair and chain; rows: test accuracy, agreement with the supervisor on the test
    split, agreement with the training labels; one line per loss, the ceiling in black. Mean ± s.e.m. over seeds
    at each evaluation."""
    rows = table.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no trajectory rows for dataset {dataset!r}")
    pairs = pairs_in_order(rows, model_order)
    cells = mean_sem(
        rows, ["weak", "strong", "chain", "role", "loss", "progress"], [c for c, _ in PANELS]
    )
    fig = new_figure(figsize=(max(4.5, 3.6 * len(pairs)), 9))
    axes = fig.subplots(len(PANELS), len(pairs), sharex=True, sharey="row", squeeze=False)
    losses = sorted(rows.filter(pl.col("role") == "student")["loss"].unique())
    lines = [("ceiling", "", "black", "ceiling (ground truth)")] + [
        ("student", loss, f"C{k % 10}", f"student ({loss})") for k, loss in enumerate(losses)
    ]
    for col, (weak, strong, chain) in enumerate(pairs):
        axes[0][col].set_title(
            f"{weak} → {strong}" + (f"\n(chain {chain})" if chain else ""), fontsize="medium"
        )
        for row, (measure, label) in enumerate(PANELS):
            ax = axes[row][col]
            for run, loss, color, name in lines:
                cell = cells.filter(
                    (pl.col("weak") == weak)
                    & (pl.col("strong") == strong)
                    & (pl.col("chain") == chain)
                    & (pl.col("role") == run)
                    & (pl.col("loss") == loss)
                )
                mean = nan_values(cell, f"{measure}_mean")
                if cell.is_empty() or all(v != v for v in mean):  # NaN: not measured
                    continue
                x, sem = cell["progress"].to_list(), nan_values(cell, f"{measure}_sem")
                ax.plot(x, mean, color=color, marker=".", label=name)
                ax.fill_between(
                    x,
                    [m - (s if s == s else 0) for m, s in zip(mean, sem)],
                    [m + (s if s == s else 0) for m, s in zip(mean, sem)],
                    color=color,
                    alpha=0.15,
                )
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel(label)
        axes[-1][col].set_xlabel("training progress (step / last step)")
    axes[0][-1].legend(fontsize="small")
    fig.suptitle(f"{dataset}: students over training")
    save_figure(
        fig,
        path,
        "shaded: s.e.m. over the config's seeds; a student whose agreement with the weak model climbs while "
        "its test accuracy falls is learning the supervisor's errors (early stopping would help)",
    )


def plot_scaling(table: pl.DataFrame, loss: str, path) -> None:
    """The paper's main figure for one loss (w2s.analysis.scaling): left, test accuracy against the strong model's
    size (the ceiling in black, one student line per weak model, solid for the plain students and dashed for each
    other method, each weak model's own accuracy as a square at its size); right, PGR. One row for the median over
    datasets (with several), then one per dataset."""
    rows = table.filter(pl.col("loss") == loss)
    if rows.is_empty():
        raise W2SError(f"no scaling rows for loss {loss!r}")
    datasets = sorted(rows["dataset"].unique())
    panels = (
        [("median over datasets", median_over_datasets(rows))] if len(datasets) > 1 else []
    ) + [(dataset, rows.filter(pl.col("dataset") == dataset)) for dataset in datasets]
    fig = new_figure(figsize=(9, 3.4 * len(panels)))
    axes = fig.subplots(len(panels), 2, squeeze=False)
    sizes = rows["weak_size"].to_list() + rows["strong_size"].to_list()
    low, high = min(sizes), max(sizes)
    axis = rows["size_axis"][0]
    weak_models = (
        rows.sort("weak_size").select("weak", "weak_size").unique(maintain_order=True).rows()
    )
    plain = "finetune, final model"
    methods = sorted(rows["method"].unique(), key=lambda m: (m != plain, m))
    styles = {
        method: "-" if method == plain else ["--", ":", "-."][k % 3]
        for k, method in enumerate(methods)
    }
    for (title, cells), (acc_ax, pgr_ax) in zip(panels, axes, strict=True):
        # the ceiling as the first method picks it (early stopping picks ceilings too)
        reference = cells.filter(pl.col("method") == methods[0])
        ceiling = (
            reference.group_by("strong_size")
            .agg(pl.col("ceiling_acc_mean").first())
            .sort("strong_size")
        )
        acc_ax.plot(
            ceiling["strong_size"],
            ceiling["ceiling_acc_mean"],
            color="black",
            marker="o",
            label="ceiling (ground truth)",
        )
        for k, (weak, weak_size) in enumerate(weak_models):
            color = f"C{k % 10}"
            for method in methods:
                line = cells.filter((pl.col("weak") == weak) & (pl.col("method") == method)).sort(
                    "strong_size"
                )
                if line.is_empty():
                    continue
                label = f"students of {weak}" + ("" if method == plain else f" ({method})")
                acc_ax.plot(
                    line["strong_size"],
                    line["student_acc_mean"],
                    styles[method],
                    color=color,
                    marker="o",
                    label=label,
                )
                pgr_ax.plot(
                    line["strong_size"],
                    nan_values(line, "pgr_mean"),
                    styles[method],
                    color=color,
                    marker="o",
                    label=label,
                )
            # the weak model's own accuracy: the plain rows' (every row's is the final weak model's)
            weak_acc = cells.filter((pl.col("weak") == weak) & (pl.col("method") == plain))[
                "weak_acc_mean"
            ]
            if len(weak_acc):
                acc_ax.scatter([weak_size], [weak_acc[0]], color=color, marker="s", s=50, zorder=3)
        acc_ax.set_ylabel(f"{title}\ntest accuracy")
        pgr_ax.set_ylabel("PGR")
        pgr_ax.axhline(0, color="grey", lw=0.8)
        pgr_ax.axhline(1, color="grey", lw=0.8, ls=":")
        for ax in (acc_ax, pgr_ax):
            if (
                axis == "parameters"
            ):  # parameter counts span orders of magnitude; a config's compute may not
                ax.set_xscale("log")
                ax.set_xlim(
                    low / 1.5, high * 1.5
                )  # set, not autoscaled: a panel of undefined PGRs has no data
            else:
                ax.set_xlim(low - 0.1 * (high - low or 1), high + 0.1 * (high - low or 1))
            ax.grid(alpha=0.3, which="both")
    for ax in axes[-1]:
        ax.set_xlabel(f"strong model {'compute (config)' if axis == 'compute' else 'parameters'}")
    axes[0][0].legend(fontsize="small")
    fig.suptitle(f"weak-to-strong scaling, loss {loss}")
    save_figure(
        fig,
        path,
        "points: mean over the config's seeds (median row: median over datasets of those means); squares: "
        "each weak model's own accuracy at its size",
    )
