"""The report's first page (reStructuredText, which `snakemake --report` renders as its landing page): the headline
table, each analysis with its figure and how to read it, the run's configuration, and the label files."""

from __future__ import annotations

import base64
from pathlib import Path

import polars as pl

from w2s.analysis.agreement import imitation_lookup
from w2s.analysis.groups import MIN_GROUP_GAP
from w2s.analysis.summary import flagged_runs, method_label

INTRO = """Weak-to-strong generalization (Burns et al. 2023): for each dataset and seed, a weak model is finetuned on
ground truth (weak_train) and labels strong_train; each strong model is finetuned on strong_train ground truth (the
ceiling) and, once per loss, on the weak labels (the students). All are scored on the same test split.
PGR = (student - weak) / (ceiling - weak): 0 is no better than the weak supervisor, 1 is as good as the ceiling."""


# The report's page holder centres its content vertically, which puts the top of a page taller than the window out
# of reach (above the scrollable area): align it to the top, and let the page use more of the width for its figures.
STYLE = """<style>
div.grow.flex.items-center.justify-center { align-items: flex-start; }
div.prose.max-w-lg { max-width: 64rem; }
</style>"""


def _cell(value: float | None, sem: float | None = None, digits: int = 3) -> str:
    if value is None:
        return "undefined"
    return f"{value:.{digits}f}" + (f" ± {sem:.{digits}f}" if sem is not None else "")


def list_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *rows]:
        lines += [f"   * - {row[0]}", *(f"     - {cell}" for cell in row[1:])]
    return lines + [""]


def imitation_text(found: dict | None) -> str:
    """A cell's imitation beside its ceiling's, as the headline shows it."""
    if found is None:
        return ""
    return f"{_cell(found['imitation_mean'], digits=2)} ({_cell(found['ceiling_imitation_mean'], digits=2)})"


def headline(
    aggregate: pl.DataFrame,
    overall: pl.DataFrame,
    runs: pl.DataFrame,
    imitation: pl.DataFrame | None = None,
) -> list[str]:
    """PGR per dataset, pair, loss and method, with the accuracies it comes from (means over seeds), and where
    `imitation` (agreement.imitation_by_cell) is given, how much of its supervisor's errors each student repeats."""
    imitated = imitation_lookup(imitation) if imitation is not None else lambda row: None
    methods = [method_label(r) for r in aggregate.iter_rows(named=True)]
    show_method = set(methods) != {
        "finetune, final model"
    }  # a column only where methods were compared
    # k-shot prompting's PGRs, with true labels and with the weak model's, a column only where it was run
    show_few_shot = aggregate["few_shot_pgr_of_means"].drop_nulls().len() > 0
    rows = []
    for r, method in zip(aggregate.iter_rows(named=True), methods, strict=True):
        few_shot = " / ".join(
            _cell(r[f"{labels}_pgr_of_means"], digits=2) for labels in ("few_shot", "few_shot_weak")
        )
        zero_shot = " / ".join(_cell(r[f"{m}_zero_shot_acc_mean"]) for m in ("weak", "strong"))
        rows.append(
            [
                r["dataset"],
                f"{r['weak']} → {r['strong']}",
                r["loss"],
                *([method] if show_method else []),
                str(r["n_seeds"]),
                _cell(r["weak_acc_mean"]),
                _cell(r["ceiling_acc_mean"]),
                _cell(r["student_acc_mean"]),
                "" if zero_shot == "undefined / undefined" else zero_shot,
                _cell(r["pgr_of_means"], digits=2),
                _cell(r["pgr_mean"], r["pgr_sem"], 2),
                ""
                if r["zero_shot_pgr_of_means"] is None
                else _cell(r["zero_shot_pgr_of_means"], digits=2),
                *([few_shot] if show_few_shot else []),
                imitation_text(imitated(r)),
            ]
        )
    lines = [
        "Headline",
        "--------",
        "",
        "Test accuracies are means over the seeds; PGR is the paper's form, the PGR of those means, beside the "
        "mean of the seeds' PGRs ± its standard error; zero-shot PGR is the PGR of the strong model's untrained "
        "answer, which a student must beat for its supervision to count (k-shot PGR: its answer to prompts of k "
        "examples with true labels, and with the weak model's); imitation is how often the student gives its "
        "supervisor's answer where that answer is wrong, beside the ceiling's (which learnt no errors) "
        "(results/summary/aggregate.csv, every run in runs.csv; results/analysis/agreement.csv).",
        "",
    ]
    lines += list_table(
        [
            "dataset",
            "weak → strong",
            "loss",
            *(["method"] if show_method else []),
            "seeds",
            "weak",
            "ceiling",
            "student",
            "zero-shot (weak / strong)",
            "PGR",
            "PGR per seed (mean ± sem)",
            "zero-shot PGR",
            *(["k-shot PGR (true / weak labels)"] if show_few_shot else []),
            "imitation (ceiling)",
        ],
        rows,
    )
    if overall["n_datasets"].max() > 1:
        lines += [
            "Median over datasets, the paper's aggregate over tasks (results/summary/overall.csv):",
            "",
        ]
        lines += list_table(
            [
                "weak → strong",
                "loss",
                *(["method"] if show_method else []),
                "datasets",
                "median PGR",
                "median of per-seed PGRs",
            ],
            [
                [
                    f"{r['weak']} → {r['strong']}",
                    r["loss"],
                    *([method_label(r)] if show_method else []),
                    str(r["n_datasets"]),
                    _cell(r["pgr_of_means_median"], digits=2),
                    _cell(r["pgr_median"], digits=2),
                ]
                for r in overall.iter_rows(named=True)
            ],
        )
    flagged = flagged_runs(runs)
    if flagged:
        lines += [f"{len(flagged)} flagged run(s):", "", *(f"- {line}" for line in flagged), ""]
    return lines


def group_section(group_pgrs: pl.DataFrame | None) -> list[str]:
    """PGR per group of test examples, for the datasets whose examples fall in more than one group."""
    if group_pgrs is None:
        return []
    groups = group_pgrs.group_by("dataset").agg(pl.col("group").n_unique())
    several = groups.filter(pl.col("group") > 1)["dataset"].to_list()
    table = group_pgrs.filter(pl.col("dataset").is_in(several))
    if table.is_empty():
        return []
    lines = [
        "PGR per group",
        "-------------",
        "",
        "Each student's PGR within each group of test examples (means over seeds; "
        "results/analysis/groups.csv): where a student recovers the gap on some groups and not on others, the "
        "headline's PGR averages unlike things. Undefined where the ceiling beats the weak model by less than "
        f"{MIN_GROUP_GAP} in a group (a ratio of noise).",
        "",
    ]
    return lines + list_table(
        [
            "dataset",
            "weak → strong",
            "loss",
            "group",
            "examples",
            "weak",
            "ceiling",
            "student",
            "PGR",
        ],
        [
            [
                r["dataset"],
                f"{r['weak']} → {r['strong']}",
                r["loss"] + (f" (chain {r['chain']})" if r["chain"] else ""),
                r["group"],
                f"{r['n']:.0f}",
                _cell(r["weak_acc_mean"]),
                _cell(r["ceiling_acc_mean"]),
                _cell(r["student_acc_mean"]),
                _cell(r["pgr_of_means"], digits=2),
            ]
            for r in table.iter_rows(named=True)
        ],
    )


def figure(title: str, caption: str, path: str, more: str) -> list[str]:
    """A section with the analysis's caption and its first figure, embedded (the report is one self-contained
    file)."""
    # Raw HTML with the base64 in short lines (browsers skip whitespace in it): docutils refuses lines over 10,000
    # characters, which an image directive with a data URI would need.
    data = base64.encodebytes(Path(path).read_bytes()).decode().splitlines()
    return [
        title,
        "-" * len(title),
        "",
        caption.strip(),
        "",
        ".. raw:: html",
        "",
        f'    <img class="w2s-figure" alt="{path}" style="max-width: 100%" src="data:image/png;base64,',
        *(f"    {line}" for line in data),
        '    ">',
        "",
        f"*{path}*{more}",
        "",
    ]


def report_page(
    aggregate: pl.DataFrame,
    overall: pl.DataFrame,
    runs: pl.DataFrame,
    figures: list[tuple[str, str, str, int]],
    config_text: str,
    label_files: list[str],
    imitation: pl.DataFrame | None = None,
    group_pgrs: pl.DataFrame | None = None,
) -> str:
    """The page: `figures` are (title, caption, first figure's path, number of figures of its kind); `imitation`
    and `group_pgrs` (agreement.imitation_by_cell, groups.group_pgr) add the mechanism beside the headline."""
    lines = [
        "w2s: weak-to-strong results",
        "===========================",
        "",
        ".. raw:: html",
        "",
        *(f"    {line}" for line in STYLE.splitlines()),
        "",
        INTRO,
        "",
    ]
    lines += headline(aggregate, overall, runs, imitation)
    lines += group_section(group_pgrs)
    for title, caption, path, count in figures:
        more = f"; {count - 1} more of this kind under Plots_ and Analyses_." if count > 1 else "."
        lines += figure(title, caption, path, more)
    lines += [
        "Run configuration",
        "-----------------",
        "",
        "::",
        "",
        *(f"    {line}" for line in config_text.splitlines()),
        "",
    ]
    lines += [
        "Label files",
        "-----------",
        "",
        "The weak models' soft labels of strong_train, one parquet file per dataset, seed and weak model "
        "(relative to the workflow folder; ``w2s labels PATH`` summarises one in the terminal):",
        "",
    ]
    lines += [f"- `{path} <{path}>`__" for path in label_files] + [""]
    # Jinja renders the page before docutils does: nothing in it is a template.
    return "{% raw %}\n" + "\n".join(lines) + "\n{% endraw %}\n"
