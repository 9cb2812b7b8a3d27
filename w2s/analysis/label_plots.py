"""Figures of the analyses of labels against their supervision: agreement with the weak supervisor (imitation),
calibration (reliability diagrams) and accuracy per group of examples."""

from __future__ import annotations

import polars as pl

from w2s.analysis.analysis_plots import mean_sem, pairs_in_order
from w2s.analysis.plots import model_key, nan_values, new_figure, save_figure
from w2s.errors import W2SError


def plot_groups(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """Accuracy per group of one dataset (w2s.analysis.groups): one panel per (weak, strong) pair and chain, a group
    of bars per example group: the weak labels of strong_train, the weak model on test, each student, the ceiling.
    Mean ± s.e.m. over seeds."""
    rows = table.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no group rows for dataset {dataset!r}")
    students = rows.filter(pl.col("role") == "student")
    pairs = pairs_in_order(students.rename({"model": "strong"}), model_order)
    groups = sorted(rows["group"].unique())
    cells = mean_sem(rows, ["role", "model", "weak", "loss", "chain", "group"], ["accuracy"])
    losses = sorted(students["loss"].unique())
    panel_width = max(3.5, 0.35 * len(groups) * (len(losses) + 3))
    fig = new_figure(figsize=(panel_width * len(pairs) + 2, 4.5))
    axes = fig.subplots(1, len(pairs), sharey=True, squeeze=False)[0]
    for ax, (weak, strong, chain) in zip(axes, pairs, strict=True):
        bars = [
            ("weak labels (strong_train)", "weak_labels", weak, "", "", "grey"),
            ("weak (test)", "weak", weak, "", "", "silver"),
        ]
        bars += [
            (f"student ({loss})", "student", strong, weak, loss, f"C{k % 10}")
            for k, loss in enumerate(losses)
        ]
        bars.append(("ceiling (test)", "ceiling", strong, "", "", "black"))
        width = 0.8 / len(bars)
        for k, (label, run, model, bar_weak, loss, color) in enumerate(bars):
            cell = cells.filter(
                (pl.col("role") == run)
                & (pl.col("model") == model)
                & (pl.col("weak") == bar_weak)
                & (pl.col("loss") == loss)
                & (pl.col("chain") == (chain if run == "student" else ""))
            )
            by_group = {
                g: (m, s)
                for g, m, s in cell.select("group", "accuracy_mean", "accuracy_sem").iter_rows()
            }
            heights = [by_group.get(g, (None, None))[0] for g in groups]
            errors = [by_group.get(g, (None, None))[1] for g in groups]
            ax.bar(
                [g + (k - (len(bars) - 1) / 2) * width for g in range(len(groups))],
                [float("nan") if h is None else h for h in heights],
                width,
                color=color,
                label=label,
                yerr=[float("nan") if e is None else e for e in errors],
                capsize=2,
            )
        ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right", fontsize="small")
        ax.set_title(
            f"{weak} → {strong}" + (f"\n(chain {chain})" if chain else ""), fontsize="medium"
        )
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("accuracy within the group")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    fig.suptitle(f"{dataset}: accuracy per group of examples")
    save_figure(fig, path)


def plot_agreement(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """The imitation analysis of one dataset (w2s.analysis.agreement): two panels, agreement with the weak model
    where it was right and where it was wrong; one group of bars per (weak, strong) pair and chain, a bar per loss
    and the ceiling's (black) as the reference. Mean ± s.e.m. over seeds."""
    rows = table.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no agreement rows for dataset {dataset!r}")
    cells = mean_sem(
        rows,
        ["weak", "strong", "chain", "role", "loss"],
        ["agreement_weak_right", "agreement_weak_wrong"],
    )
    groups = pairs_in_order(rows, model_order)
    bars = [("ceiling", "")] + [
        ("student", loss)
        for loss in sorted(cells.filter(pl.col("role") == "student")["loss"].unique())
    ]
    width = 0.8 / len(bars)
    fig = new_figure(figsize=(2 * max(4.5, 0.9 * len(groups)), 4.8))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, half, title in zip(
        axes,
        ("weak_right", "weak_wrong"),
        ("where the weak model was right", "where the weak model was wrong"),
        strict=True,
    ):
        for k, (run, loss) in enumerate(bars):
            heights, errors = [], []
            for weak, strong, chain in groups:
                cell = cells.filter(
                    (pl.col("weak") == weak)
                    & (pl.col("strong") == strong)
                    & (pl.col("chain") == chain)
                    & (pl.col("role") == run)
                    & (pl.col("loss") == loss)
                )
                heights += nan_values(cell, f"agreement_{half}_mean") or [float("nan")]
                errors += nan_values(cell, f"agreement_{half}_sem") or [float("nan")]
            ax.bar(
                [g + (k - (len(bars) - 1) / 2) * width for g in range(len(groups))],
                heights,
                width,
                yerr=errors,
                capsize=2,
                color="black" if run == "ceiling" else f"C{k % 10}",
                label="ceiling (ground truth)" if run == "ceiling" else f"student ({loss})",
            )
        ax.set_xticks(
            range(len(groups)),
            [f"{w} → {s}" + (f"\n({c})" if c else "") for w, s, c in groups],
            fontsize="small",
            rotation=30,
            ha="right",
        )
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("agreement with the weak model")
    axes[1].legend(fontsize="small")
    fig.suptitle(f"{dataset}: imitation of the weak supervisor on the test split")
    save_figure(fig, path)


def plot_calibration(pooled: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """Reliability diagrams of one dataset (w2s.analysis.calibration.pooled_reliability): one panel per weak model,
    with its test predictions and its labels of strong_train, and the ceilings and students of its pairs; the
    diagonal is perfect calibration. Seeds pooled."""
    rows = pooled.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no calibration rows for dataset {dataset!r}")
    weaks = sorted(set(rows.filter(pl.col("role") == "weak")["model"]), key=model_key(model_order))
    fig = new_figure(len(weaks))
    axes = fig.subplots(1, len(weaks), squeeze=False, sharey=True)[0]
    for ax, weak in zip(axes, weaks, strict=True):
        students = rows.filter((pl.col("role") == "student") & (pl.col("weak") == weak))
        strong = students["model"].unique().to_list()
        ceilings = rows.filter((pl.col("role") == "ceiling") & pl.col("model").is_in(strong))
        curves = [
            (rows.filter((pl.col("role") == run) & (pl.col("model") == weak)), label, style)
            for run, label, style in (
                ("weak", f"weak {weak} (test)", "--"),
                ("weak_labels", f"weak {weak} (its labels)", ":"),
            )
        ]
        curves += [
            (ceilings.filter(pl.col("model") == m), f"ceiling {m}", "-")
            for m in ceilings["model"].unique()
        ]
        keys = (
            students.select("model", "loss", "chain")
            .unique()
            .sort("model", "loss", "chain")
            .iter_rows()
        )
        curves += [
            (
                students.filter(
                    (pl.col("model") == m) & (pl.col("loss") == loss) & (pl.col("chain") == chain)
                ),
                f"student {m} ({loss}{', ' + chain if chain else ''})",
                "-",
            )
            for m, loss, chain in keys
        ]
        ax.plot([0, 1], [0, 1], color="lightgrey", linewidth=1)
        for curve, label, style in curves:
            curve = curve.sort("bin")
            ax.plot(
                curve["mean_p1"].to_list(),
                curve["share_label_1"].to_list(),
                style,
                marker="o",
                markersize=3,
                label=label,
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted p(label = 1) in the bin")
        ax.set_title(f"weak supervisor: {weak}")
        ax.legend(
            fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2
        )  # off the curves
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of label 1 in the bin")
    fig.suptitle(f"{dataset}: reliability (ten bins of p(1), seeds pooled)")
    save_figure(
        fig,
        path,
        "a calibrated model lies on the diagonal; expected calibration errors per run are in "
        "results/analysis/calibration.csv",
    )
