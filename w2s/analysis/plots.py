"""Paper-style figures from the aggregated table (w2s.analysis.summary.aggregate): accuracy per dataset, PGR per
loss."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from w2s.analysis.summary import method_label
from w2s.errors import W2SError
from w2s.io import atomic_path


def _order(present, model_order: list[str]) -> list[str]:
    """Models in model_order that are present; unknown ones go last (sorted) so no data silently disappears."""
    return sorted(set(present), key=model_key(model_order))


def model_key(model_order: list[str]):
    """A sort key for model names: the config's order, then models it does not list, by name."""
    rank = {m: i for i, m in enumerate(model_order)}
    return lambda model: (rank.get(model, len(rank)), model)


def nan_values(frame: pl.DataFrame, col: str) -> list[float]:
    # Nulls become NaN: matplotlib skips NaN points and error bars instead of failing on None.
    return [float("nan") if v is None else v for v in frame[col].to_list()]


def new_figure(ncols: int = 1, figsize: tuple[float, float] | None = None) -> Figure:
    fig = Figure(figsize=figsize or (4.5 * ncols, 4), layout="constrained")
    FigureCanvasAgg(fig)  # render off-screen; no pyplot, so no global figure to leak
    return fig


# What the error bars cover, on every figure: the seeds redraw splits and finetuning, never the base models.
ERROR_BARS = (
    "error bars: s.e.m. over the config's seeds (data splits, head init, data order); the base models "
    "(pretrained or from the hub) are the same for every seed"
)


def save_figure(fig: Figure, path, footer: str = ERROR_BARS) -> None:
    # wrapped to the figure's width (about 18 x-small characters per inch), so a narrow figure shows all of it
    fig.supxlabel(
        textwrap.fill(footer, width=int(18 * fig.get_figwidth())),
        fontsize="x-small",
        color="dimgrey",
    )
    # atomic_path makes the parent dir; its temporary name has no .png suffix, so name the format.
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def plot_note(path, text: str) -> None:
    """A figure that says why there is nothing to draw (so every planned figure exists)."""
    fig = new_figure(1)
    ax = fig.subplots()
    ax.axis("off")
    ax.text(0.5, 0.5, textwrap.fill(text, 50), ha="center", va="center")
    save_figure(fig, path, "")


def _strong_axis(ax, strong: list[str]) -> None:
    ax.set_xticks(range(len(strong)), strong)
    ax.set_xlim(-0.5, len(strong) - 0.5)  # a single model still gets a readable axis
    ax.set_xlabel("strong model")
    ax.grid(alpha=0.3)


def plot_accuracy(agg: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    save_figure(accuracy_figure(agg, dataset, model_order), path)


def accuracy_figure(agg: pl.DataFrame, dataset: str, model_order: list[str]) -> Figure:
    """One panel per weak model: weak accuracy (dashed), ceiling (black), one student line per loss, and the
    models' zero-shot accuracy (dotted) where it was measured; each panel's legend below it, clear of its points."""
    rows = agg.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no aggregated results for dataset {dataset!r}")
    weaks = _order(rows["weak"].unique(), model_order)
    losses = sorted(rows["loss"].unique())
    colours = {
        loss: f"C{i % 10}" for i, loss in enumerate(losses)
    }  # same colour per loss in every panel

    fig = new_figure(len(weaks))
    axes = fig.subplots(1, len(weaks), squeeze=False, sharey=True)[0]
    for ax, weak in zip(axes, weaks):
        sub = rows.filter(pl.col("weak") == weak)
        strong = _order(sub["strong"].unique(), model_order)
        pos = {m: i for i, m in enumerate(strong)}

        # Weak accuracy is one number per (dataset, weak); it repeats across rows, so take their mean.
        ax.axhline(
            sub["weak_acc_mean"].mean(), color="grey", linestyle="--", label=f"weak ({weak})"
        )
        if sub["weak_zero_shot_acc_mean"].drop_nulls().len():
            ax.axhline(
                sub["weak_zero_shot_acc_mean"].mean(),
                color="grey",
                linestyle=":",
                label=f"weak zero-shot ({weak})",
            )

        ceiling = sub.unique("strong", keep="first").sort(pl.col("strong").replace_strict(pos))
        ax.errorbar(
            [pos[m] for m in ceiling["strong"]],
            nan_values(ceiling, "ceiling_acc_mean"),
            yerr=nan_values(ceiling, "ceiling_acc_sem"),
            color="black",
            marker="o",
            capsize=3,
            label="strong ceiling",
        )
        zero_shot = ceiling.filter(pl.col("strong_zero_shot_acc_mean").is_not_null())
        if not zero_shot.is_empty():
            ax.errorbar(
                [pos[m] for m in zero_shot["strong"]],
                nan_values(zero_shot, "strong_zero_shot_acc_mean"),
                yerr=nan_values(zero_shot, "strong_zero_shot_acc_sem"),
                color="black",
                linestyle=":",
                marker="^",
                capsize=3,
                label="strong zero-shot",
            )
        for loss in losses:
            line = sub.filter(pl.col("loss") == loss).sort(pl.col("strong").replace_strict(pos))
            if line.is_empty():
                continue
            ax.errorbar(
                [pos[m] for m in line["strong"]],
                nan_values(line, "student_acc_mean"),
                yerr=nan_values(line, "student_acc_sem"),
                color=colours[loss],
                marker="s",
                capsize=3,
                label=f"student ({loss})",
            )
        _strong_axis(ax, strong)
        ax.set_title(f"weak supervisor: {weak}")
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    axes[0].set_ylabel("test accuracy")
    fig.suptitle(f"{dataset}: weak-to-strong test accuracy")
    return fig


def plot_pgr(agg: pl.DataFrame, loss: str, model_order: list[str], path) -> None:
    """PGR (mean ± s.e.m. over seeds) against strong model, one line per (dataset, weak) pair."""
    rows = agg.filter(pl.col("loss") == loss)
    if rows.is_empty():
        raise W2SError(f"no aggregated results for loss {loss!r}")
    strong = _order(rows["strong"].unique(), model_order)
    pos = {m: i for i, m in enumerate(strong)}
    weak_rank = {m: i for i, m in enumerate(_order(rows["weak"].unique(), model_order))}
    pairs = sorted(
        rows.select("dataset", "weak").unique().iter_rows(), key=lambda p: (p[0], weak_rank[p[1]])
    )

    fig = new_figure(1)
    ax = fig.subplots()
    ax.axhline(0, color="grey", linestyle="--", linewidth=1)  # no better than the weak supervisor
    ax.axhline(1, color="black", linestyle="--", linewidth=1)  # as good as the ground-truth ceiling
    for dataset, weak in pairs:
        line = rows.filter((pl.col("dataset") == dataset) & (pl.col("weak") == weak))
        line = line.sort(pl.col("strong").replace_strict(pos))
        ax.errorbar(
            [pos[m] for m in line["strong"]],
            nan_values(line, "pgr_mean"),
            yerr=nan_values(line, "pgr_sem"),
            marker="o",
            capsize=3,
            label=f"{dataset} (weak {weak})",
        )
    _strong_axis(ax, strong)
    ax.set_ylabel("performance gap recovered")
    ax.set_title(f"PGR, loss {loss}")
    ax.legend(fontsize="small")
    save_figure(fig, path)


def plot_pgr_by_task(agg: pl.DataFrame, loss: str, model_order: list[str], path) -> None:
    """One row per dataset (task), one point per (weak, strong) pair: PGR, mean ± s.e.m. over seeds; a last row
    gives each pair's median over the datasets, the paper's headline aggregate. Tall enough for two dozen tasks."""
    rows = agg.filter(pl.col("loss") == loss)
    if rows.is_empty():
        raise W2SError(f"no aggregated results for loss {loss!r}")
    key = model_key(model_order)
    pairs = sorted(
        rows.select("weak", "strong").unique().iter_rows(), key=lambda p: (key(p[0]), key(p[1]))
    )
    datasets = sorted(rows["dataset"].unique())
    y = {
        d: len(datasets) - i for i, d in enumerate(datasets)
    }  # first dataset on top, the median row at 0
    fig = new_figure(figsize=(8.5, 1.4 + 0.32 * (len(datasets) + 1)))
    ax = fig.subplots()
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)  # no better than the weak supervisor
    ax.axvline(1, color="black", linestyle="--", linewidth=1)  # as good as the ground-truth ceiling
    ax.axhline(0.5, color="lightgrey", linewidth=1)
    offsets = [
        0.3 * (i / max(1, len(pairs) - 1) - 0.5) for i in range(len(pairs))
    ]  # spread a row's points
    for offset, (weak, strong) in zip(offsets, pairs, strict=True):
        sub = rows.filter((pl.col("weak") == weak) & (pl.col("strong") == strong))
        colour = ax.errorbar(
            nan_values(sub, "pgr_mean"),
            [y[d] + offset for d in sub["dataset"]],
            xerr=nan_values(sub, "pgr_sem"),
            fmt="o",
            capsize=2,
            markersize=4,
            label=f"{weak} → {strong}",
        )[0].get_color()
        median = sub["pgr_mean"].median()
        if median is not None:
            ax.plot([median], [offset], marker="D", color=colour)
    ax.set_yticks([*y.values(), 0], [*y, "median over tasks"])
    ax.set_ylim(-0.7, len(datasets) + 0.7)
    ax.set_xlabel("performance gap recovered")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"PGR per task, loss {loss}")
    fig.legend(fontsize="small", loc="outside right upper", title="weak → strong")
    save_figure(fig, path)


def plot_methods(overall: pl.DataFrame, loss: str, model_order: list[str], path) -> None:
    """The methods side by side: for each weak model, one bar per (strong model, method) with its PGR, the median
    over the datasets (a single dataset's mean PGR), so each method stands next to the plain final-model finetune."""
    rows = overall.filter(pl.col("loss") == loss)
    if rows.is_empty():
        raise W2SError(f"no results for loss {loss!r}")
    key = model_key(model_order)
    records = sorted(
        rows.iter_rows(named=True),
        key=lambda r: (
            key(r["weak"]),
            key(r["strong"]),
            method_label(r) != "finetune, final model",
            method_label(r),
        ),
    )
    labels = [f"{r['weak']} → {r['strong']}: {method_label(r)}" for r in records]
    fig = new_figure(figsize=(9, 1.2 + 0.3 * len(records)))
    ax = fig.subplots()
    y = list(range(len(records)))[::-1]
    colours = {
        label: f"C{i % 10}"
        for i, label in enumerate(dict.fromkeys(method_label(r) for r in records))
    }
    values = [float("nan") if r["pgr_median"] is None else r["pgr_median"] for r in records]
    ax.barh(y, values, color=[colours[method_label(r)] for r in records])
    for position, value in zip(y, values, strict=True):
        if value != value:  # NaN: the ceiling did not beat the weak model (e.g. strong-to-strong)
            ax.text(0.02, position, "PGR undefined", va="center", fontsize="small", color="dimgrey")
    ax.axvline(0, color="grey", linestyle="--", linewidth=1)  # no better than the weak supervisor
    ax.axvline(1, color="black", linestyle="--", linewidth=1)  # as good as the ground-truth ceiling
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlabel("performance gap recovered (median over datasets)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"Methods side by side, loss {loss}")
    save_figure(
        fig,
        path,
        "bars: the median over the datasets of each dataset's mean PGR over the config's seeds (per-seed "
        "spread in aggregate.csv)",
    )
