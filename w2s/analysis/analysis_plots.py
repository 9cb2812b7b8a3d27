"""Figures of the analyses beyond the summary: training trajectories, the scaling view, and label quality per
group."""

from __future__ import annotations

import polars as pl

from w2s.analysis.plots import _new_figure, _save, _values
from w2s.errors import W2SError

PANELS = (("test_accuracy", "test accuracy"), ("test_agreement", "agreement with the supervisor\n(test split)"),
          ("train_agreement", "agreement with the training labels\n(batches as trained)"))


def _mean_sem(frame: pl.DataFrame, by: list[str], columns: list[str]) -> pl.DataFrame:
    return frame.group_by(by).agg(*(pl.col(c).mean().alias(f"{c}_mean") for c in columns),
                                  *((pl.col(c).std(ddof=1) / pl.col(c).count().sqrt()).alias(f"{c}_sem")
                                    for c in columns)).sort(by)


def _pairs(rows: pl.DataFrame, model_order: list[str]) -> list[tuple[str, str, str]]:
    rank = {m: i for i, m in enumerate(model_order)}
    return sorted(rows.select("weak", "strong", "chain").unique().iter_rows(),
                  key=lambda g: (rank.get(g[0], len(rank)), rank.get(g[1], len(rank)), g[2]))


def plot_trajectories(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """One column per (weak, strong) pair and chain; rows: test accuracy, agreement with the supervisor on the test
    split, agreement with the training labels; one line per loss, the ceiling in black. Mean ± s.e.m. over seeds
    at each evaluation."""
    rows = table.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no trajectory rows for dataset {dataset!r}")
    pairs = _pairs(rows, model_order)
    cells = _mean_sem(rows, ["weak", "strong", "chain", "run", "loss", "progress"], [c for c, _ in PANELS])
    fig = _new_figure(figsize=(max(4.5, 3.6 * len(pairs)), 9))
    axes = fig.subplots(len(PANELS), len(pairs), sharex=True, sharey="row", squeeze=False)
    losses = sorted(rows.filter(pl.col("run") == "student")["loss"].unique())
    lines = [("ceiling", "", "black", "ceiling (ground truth)")] + [
        ("student", loss, f"C{k % 10}", f"student ({loss})") for k, loss in enumerate(losses)]
    for col, (weak, strong, chain) in enumerate(pairs):
        axes[0][col].set_title(f"{weak} → {strong}" + (f"\n(chain {chain})" if chain else ""), fontsize="medium")
        for row, (measure, label) in enumerate(PANELS):
            ax = axes[row][col]
            for run, loss, color, name in lines:
                cell = cells.filter((pl.col("weak") == weak) & (pl.col("strong") == strong)
                                    & (pl.col("chain") == chain) & (pl.col("run") == run) & (pl.col("loss") == loss))
                mean = _values(cell, f"{measure}_mean")
                if cell.is_empty() or all(v != v for v in mean):  # NaN: not measured (a ceiling has no supervisor)
                    continue
                x, sem = cell["progress"].to_list(), _values(cell, f"{measure}_sem")
                ax.plot(x, mean, color=color, marker=".", label=name)
                ax.fill_between(x, [m - (s if s == s else 0) for m, s in zip(mean, sem)],
                                [m + (s if s == s else 0) for m, s in zip(mean, sem)], color=color, alpha=0.15)
            ax.grid(alpha=0.3)
            if col == 0:
                ax.set_ylabel(label)
        axes[-1][col].set_xlabel("training progress (step / last step)")
    axes[0][-1].legend(fontsize="small")
    fig.suptitle(f"{dataset}: students over training")
    _save(fig, path, "shaded: s.e.m. over the config's seeds; a student whose agreement with its supervisor climbs "
                     "while its test accuracy falls is learning the supervisor's errors (early stopping would help)")
