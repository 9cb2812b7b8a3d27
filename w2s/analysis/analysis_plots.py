"""Figures of the analyses beyond the summary: imitation, calibration, training trajectories, the scaling view, and
label quality per group."""

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


def _mean_sem(frame: pl.DataFrame, by: list[str], columns: list[str]) -> pl.DataFrame:
    return (
        frame.group_by(by)
        .agg(
            *(pl.col(c).mean().alias(f"{c}_mean") for c in columns),
            *(sem(c).alias(f"{c}_sem") for c in columns),
        )
        .sort(by)
    )


def _pairs(rows: pl.DataFrame, model_order: list[str]) -> list[tuple[str, str, str]]:
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
    pairs = _pairs(rows, model_order)
    cells = _mean_sem(
        rows, ["weak", "strong", "chain", "run", "loss", "progress"], [c for c, _ in PANELS]
    )
    fig = new_figure(figsize=(max(4.5, 3.6 * len(pairs)), 9))
    axes = fig.subplots(len(PANELS), len(pairs), sharex=True, sharey="row", squeeze=False)
    losses = sorted(rows.filter(pl.col("run") == "student")["loss"].unique())
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
                    & (pl.col("run") == run)
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


def plot_groups(table: pl.DataFrame, dataset: str, model_order: list[str], path) -> None:
    """Accuracy per group of one dataset (w2s.analysis.groups): one panel per (weak, strong) pair and chain, a group
    of bars per example group: the weak labels of strong_train, the weak model on test, each student, the ceiling.
    Mean ± s.e.m. over seeds."""
    rows = table.filter(pl.col("dataset") == dataset)
    if rows.is_empty():
        raise W2SError(f"no group rows for dataset {dataset!r}")
    students = rows.filter(pl.col("run") == "student")
    pairs = _pairs(students.rename({"model": "strong"}), model_order)
    groups = sorted(rows["group"].unique())
    cells = _mean_sem(rows, ["run", "model", "weak", "loss", "chain", "group"], ["accuracy"])
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
                (pl.col("run") == run)
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
    cells = _mean_sem(
        rows,
        ["weak", "strong", "chain", "run", "loss"],
        ["agreement_weak_right", "agreement_weak_wrong"],
    )
    groups = _pairs(rows, model_order)
    bars = [("ceiling", "")] + [
        ("student", loss)
        for loss in sorted(cells.filter(pl.col("run") == "student")["loss"].unique())
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
                    & (pl.col("run") == run)
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
    weaks = sorted(set(rows.filter(pl.col("run") == "weak")["model"]), key=model_key(model_order))
    fig = new_figure(len(weaks))
    axes = fig.subplots(1, len(weaks), squeeze=False, sharey=True)[0]
    for ax, weak in zip(axes, weaks, strict=True):
        students = rows.filter((pl.col("run") == "student") & (pl.col("weak") == weak))
        strong = students["model"].unique().to_list()
        ceilings = rows.filter((pl.col("run") == "ceiling") & pl.col("model").is_in(strong))
        curves = [
            (rows.filter((pl.col("run") == run) & (pl.col("model") == weak)), label, style)
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
