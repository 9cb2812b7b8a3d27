"""What a student's gain goes with: its misfit to the labels it was taught (w2s.training.misfit), and the share of
ground truth among them (a loss entry's `ground_truth` budget). Tables and figures of the misfit and budget
analyses."""

from __future__ import annotations

import polars as pl

from w2s.analysis.plots import model_key, nan_values, new_figure, save_figure
from w2s.analysis.summary import method_label

MISFIT_COLUMNS = ["dataset", "weak", "strong", "loss", "chain", "seed", "misfit", "pgr"]


def misfit_table(runs: pl.DataFrame) -> pl.DataFrame:
    """Each student run's misfit beside its PGR (runs measured before misfit existed are left out, and a summary
    written before it has no column for it)."""
    if "misfit" not in runs.columns:
        runs = runs.with_columns(misfit=pl.lit(None, pl.Float64))
    measured = runs.filter(pl.col("misfit").is_not_null())
    methods = [method_label(row) for row in measured.iter_rows(named=True)]
    return measured.select(MISFIT_COLUMNS).with_columns(method=pl.Series(methods, dtype=pl.String))


def plot_misfit(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """PGR against misfit, one point per run: a colour per weak -> strong pair, a marker per loss and method."""
    rows = table.filter(pl.col("dataset") == dataset)
    fig = new_figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    key = model_key(model_order)
    pairs = sorted(
        rows.select("weak", "strong").unique().iter_rows(), key=lambda p: (key(p[0]), key(p[1]))
    )
    kinds = sorted(rows.select("loss", "method").unique().iter_rows())
    markers = "osD^v<>ph*"
    for p, (weak, strong) in enumerate(pairs):
        for k, (loss, method) in enumerate(kinds):
            cell = rows.filter(
                (pl.col("weak") == weak)
                & (pl.col("strong") == strong)
                & (pl.col("loss") == loss)
                & (pl.col("method") == method)
            )
            if cell.is_empty():
                continue
            label = f"{weak} → {strong}, {loss}" + (
                "" if method.startswith("finetune") else f", {method}"
            )
            ax.scatter(
                cell["misfit"],
                nan_values(cell, "pgr"),
                color=f"C{p % 10}",
                marker=markers[k % len(markers)],
                label=label,
                alpha=0.8,
            )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("misfit: KL from the taught labels to the student, training rows (nats)")
    ax.set_ylabel("PGR")
    ax.set_title(f"{dataset}: gain against misfit")
    if not rows.is_empty():
        ax.legend(fontsize="x-small")
    save_figure(fig, path, "one point per run (config seed); misfit measured after training")


def budget_table(
    aggregate: pl.DataFrame, shares: dict[str, float], types: dict[str, str]
) -> pl.DataFrame:
    """The plain students' PGR of the means (final models, no chain) against their loss's ground-truth share (0 where
    it has none), with the loss's type: the lines of the budget figure."""
    plain = aggregate.filter(
        (pl.col("chain") == "") & (pl.col("early_stopping") == "none") & ~pl.col("generative")
    )
    return plain.select(
        "dataset",
        "weak",
        "strong",
        "loss",
        "mode",
        pl.col("loss").replace_strict(types, return_dtype=pl.String).alias("loss_type"),
        pl.col("loss").replace_strict(shares, return_dtype=pl.Float64).alias("ground_truth"),
        "n_seeds",
        "student_acc_mean",
        "pgr_of_means",
        "pgr_mean",
        "pgr_sem",
    ).sort("dataset", "weak", "strong", "loss_type", "ground_truth")


def plot_budget(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """PGR of the means against the share of ground truth among a student's labels: a line per weak -> strong pair
    and loss type (and mode), its points the losses of that type with each share."""
    rows = table.filter(pl.col("dataset") == dataset)
    fig = new_figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    key = model_key(model_order)
    lines = sorted(
        rows.select("weak", "strong", "loss_type", "mode").unique().iter_rows(),
        key=lambda g: (key(g[0]), key(g[1]), g[2], g[3]),
    )
    for n, (weak, strong, loss_type, mode) in enumerate(lines):
        line = rows.filter(
            (pl.col("weak") == weak)
            & (pl.col("strong") == strong)
            & (pl.col("loss_type") == loss_type)
            & (pl.col("mode") == mode)
        ).sort("ground_truth")
        label = f"{weak} → {strong}, {loss_type}" + ("" if mode == "finetune" else f" ({mode})")
        ax.plot(
            line["ground_truth"],
            nan_values(line, "pgr_of_means"),
            marker="o",
            color=f"C{n % 10}",
            label=label,
        )
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axhline(1, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("ground truth among the student's labels (share of its training rows)")
    ax.set_ylabel("PGR of the means")
    ax.set_title(f"{dataset}: gain against a ground-truth budget")
    if lines:
        ax.legend(fontsize="x-small")
    save_figure(
        fig, path, "PGR of the seed-mean accuracies; plain students (final model, no chain)"
    )
