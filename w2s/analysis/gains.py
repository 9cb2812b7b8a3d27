"""What a student's gain goes with: its misfit to the labels it was taught (w2s.training.misfit), and the share of
ground truth among them (a loss entry's `ground_truth` budget). The gains analysis: a table of the student runs
and, per dataset, a figure of PGR against each."""

from __future__ import annotations

import polars as pl

from w2s.analysis.plots import model_key, nan_values, new_figure, save_figure
from w2s.analysis.summary import method_label, pgr

COLUMNS = [
    "dataset",
    "weak",
    "strong",
    "loss",
    "chain",
    "seed",
    "weak_acc",
    "ceiling_acc",
    "student_acc",
    "pgr",
]


def gains_table(
    runs: pl.DataFrame, shares: dict[str, float], types: dict[str, str]
) -> pl.DataFrame:
    """Each student run's PGR, misfit (null where it was not measured: runs, or a summary, from before it existed),
    its method, and its loss's type and ground-truth share (0 without a budget)."""
    if "misfit" not in runs.columns:
        runs = runs.with_columns(misfit=pl.lit(None, pl.Float64))
    methods = [method_label(row) for row in runs.iter_rows(named=True)]
    return runs.select(
        *COLUMNS,
        "misfit",
        method=pl.Series(methods, dtype=pl.String),
        loss_type=pl.col("loss").replace_strict(types, return_dtype=pl.String),
        ground_truth=pl.col("loss").replace_strict(shares, return_dtype=pl.Float64),
    )


def budget_lines(rows: pl.DataFrame) -> pl.DataFrame:
    """The plain students' PGR of the means (over seeds) per pair, loss type and ground-truth share."""
    plain = rows.filter(pl.col("method") == "finetune, final model")
    cells = plain.group_by("weak", "strong", "loss_type", "ground_truth").agg(
        pl.col("weak_acc", "ceiling_acc", "student_acc").mean()
    )
    values = [
        pgr(r["weak_acc"], r["ceiling_acc"], r["student_acc"]) for r in cells.iter_rows(named=True)
    ]
    return cells.with_columns(pgr_of_means=pl.Series(values, dtype=pl.Float64)).sort("ground_truth")


def plot_gains(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """Left, PGR against misfit, a point per run (a colour per weak -> strong pair, a marker per loss and
    method); right, the plain students' PGR of the means against their loss's ground-truth share, a line per pair
    and loss type."""
    rows = table.filter(pl.col("dataset") == dataset)
    fig = new_figure(2, figsize=(11, 4.5))
    misfit_ax, budget_ax = fig.subplots(1, 2)
    key = model_key(model_order)
    pairs = sorted(
        rows.select("weak", "strong").unique().iter_rows(), key=lambda p: (key(p[0]), key(p[1]))
    )
    colour = {pair: f"C{n % 10}" for n, pair in enumerate(pairs)}
    kinds = sorted(rows.select("loss", "method").unique().iter_rows())
    markers = "osD^v<>ph*"
    measured = rows.filter(pl.col("misfit").is_not_null())
    for (weak, strong), cell in measured.group_by("weak", "strong"):
        for k, (loss, method) in enumerate(kinds):
            points = cell.filter((pl.col("loss") == loss) & (pl.col("method") == method))
            if points.is_empty():
                continue
            extra = "" if method == "finetune, final model" else f", {method}"
            misfit_ax.scatter(
                points["misfit"],
                nan_values(points, "pgr"),
                color=colour[(weak, strong)],
                marker=markers[k % len(markers)],
                alpha=0.8,
                label=f"{weak} → {strong}, {loss}{extra}",
            )
    misfit_ax.set_xlabel(
        "misfit: KL from the taught labels to the student,\non its training rows (nats)"
    )
    misfit_ax.set_ylabel("PGR")
    misfit_ax.set_title(f"{dataset}: gain against misfit (a point per run)")
    lines = budget_lines(rows)
    loss_types = sorted(lines["loss_type"].unique())
    styles = {
        t: (["-", "--", ":", "-."][k % 4], markers[k % len(markers)])
        for k, t in enumerate(loss_types)
    }
    for (weak, strong, loss_type), line in lines.group_by(
        "weak", "strong", "loss_type", maintain_order=True
    ):
        style, marker = styles[loss_type]  # a colour per pair, a line and marker per loss type
        budget_ax.plot(
            line["ground_truth"],
            nan_values(line, "pgr_of_means"),
            linestyle=style,
            marker=marker,
            color=colour[(weak, strong)],
            label=f"{weak} → {strong}, {loss_type}",
        )
    budget_ax.set_xlabel("ground truth among the student's labels\n(share of its training rows)")
    budget_ax.set_ylabel("PGR of the means")
    budget_ax.set_title(f"{dataset}: gain against a ground-truth budget")
    for ax in (misfit_ax, budget_ax):
        ax.axhline(0, color="grey", linewidth=0.8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    save_figure(
        fig, path, "misfit measured after training; right: plain students (final model, no chain)"
    )
