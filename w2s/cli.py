"""The `w2s` command: check a config, inspect label and prediction files, and a run's results.

w2s check [config.yaml]
w2s labels results/labels/<dataset>/seed<seed>/<weak>.parquet
w2s summary [results/ | results/summary/runs.parquet]
w2s compare RUN_A RUN_B   (run folders, or predictions files: test_predictions.parquet, labels)
w2s plan [config.yaml] [-s Snakefile] [-- SNAKEMAKE_ARGS]   (jobs, requested hours, checkpoint disk, downloads)
w2s fetch [config.yaml]   (every hub model and dataset of the grid into the Hugging Face cache, checked)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from w2s.analysis.agreement import AGREEMENT_SCHEMA, imitation_by_cell, imitation_lookup
from w2s.analysis.labels_report import describe_labels
from w2s.analysis.summary import (
    LATER_METRICS,
    RUNS_SCHEMA,
    aggregate,
    flagged_runs,
    method_label,
    overall,
)
from w2s.errors import W2SError
from w2s.records.predictions import (
    hard_answers,
    on_same_examples,
    read_predictions,
    read_table,
)


def fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"


def imitation_beside(runs_path: str):
    """The imitation lookup (agreement.imitation_lookup) of the agreement analysis in the same results folder,
    where it has been written and compared a student; None where not."""
    table = Path(runs_path).parent.parent / "analysis/agreement.parquet"
    if not table.exists():
        return None
    agreement = read_table(str(table), AGREEMENT_SCHEMA, "an agreement table (results/analysis)")
    cells = imitation_by_cell(agreement)
    return imitation_lookup(cells) if cells.height else None


def legal_rates(row: dict) -> str:
    return "/".join(fmt(row[f"{role}_legal_rate_mean"]) for role in ("weak", "ceiling", "student"))


def few_shot_pgrs(row: dict) -> str:
    return f"{fmt(row['few_shot_pgr_of_means'])}/{fmt(row['few_shot_weak_pgr_of_means'])}"


def imitated(found: dict | None) -> str:
    return fmt(found["imitation_mean"]) if found else ""


def describe_summary(path: str) -> str:
    """Each cell's accuracies and PGR over seeds (with its imitation where the agreement analysis has run), then
    every flagged run (undefined PGR, student below chance)."""
    required = [column for column in RUNS_SCHEMA if column not in LATER_METRICS]
    runs = read_table(path, required, "a runs table (results/summary/runs.parquet)")
    cells = aggregate(runs)
    imitation = imitation_beside(path)
    methods = [method_label(r) for r in cells.iter_rows(named=True)]
    show_method = set(methods) != {
        "finetune, final model"
    }  # a column only where methods were compared
    # the strong model's untrained answer as a PGR: what a student must beat for its supervision to count
    show_zero_shot = cells["zero_shot_pgr_of_means"].drop_nulls().len() > 0
    # chess answers: the share of legal moves of the weak model, the ceiling and the student
    show_legal = cells["student_legal_rate_mean"].drop_nulls().len() > 0
    # each student's misfit to the labels it was taught (runs from before it was measured have none)
    show_misfit = cells["misfit_mean"].drop_nulls().len() > 0
    # the strong model's untrained answer to k-shot prompts with true labels / the weak model's, as PGRs
    show_few_shot = cells["few_shot_pgr_of_means"].drop_nulls().len() > 0
    lines = [
        f"{'dataset':<12} {'weak':<8} {'strong':<8} {'loss':<9} {'seeds':>5} {'weak':>6} {'ceiling':>7} "
        f"{'student':>7} {'PGR (mean ± sem)':>17} {'PGR of means':>12}"
        + (f" {'zero-shot PGR':>13}" if show_zero_shot else "")
        + (f" {'k-shot PGR (true/weak)':>22}" if show_few_shot else "")
        + (f" {'imitation':>9}" if imitation else "")
        + (f" {'legal (weak/ceiling/student)':>28}" if show_legal else "")
        + (f" {'misfit':>6}" if show_misfit else "")
        + ("  method" if show_method else "")
    ]
    for r, method in zip(cells.iter_rows(named=True), methods, strict=True):
        mean, sem, of_means = r["pgr_mean"], r["pgr_sem"], r["pgr_of_means"]
        pgr = (
            "undefined"
            if mean is None
            else f"{mean:.2f}" + (f" ± {sem:.2f}" if sem is not None else "")
        )
        lines.append(
            f"{r['dataset']:<12} {r['weak']:<8} {r['strong']:<8} {r['loss']:<9} {r['n_seeds']:>5} "
            f"{r['weak_acc_mean']:>6.3f} {r['ceiling_acc_mean']:>7.3f} {r['student_acc_mean']:>7.3f} "
            f"{pgr:>17} {fmt(of_means):>12}"
            + (f" {fmt(r['zero_shot_pgr_of_means']):>13}" if show_zero_shot else "")
            + (f" {few_shot_pgrs(r):>22}" if show_few_shot else "")
            + (f" {imitated(imitation(r)):>9}" if imitation else "")
            + (f" {legal_rates(r):>28}" if show_legal else "")
            + (f" {fmt(r['misfit_mean']):>6}" if show_misfit else "")
            + (f"  {method}" if show_method else "")
        )
    if runs["strong_to_strong"].any():
        lines.append(
            "(rows with weak = strong are the strong-to-strong control: compare the student with the weak "
            "run it learnt from; their PGR measures noise)"
        )
    medians = overall(cells)
    if medians["n_datasets"].max() > 1:  # the paper's headline aggregate over tasks
        lines.append("\nmedian over datasets (of each dataset's PGR mean | of its PGR of means):")
        lines += [
            f"  {r['weak']} -> {r['strong']}, {r['loss']}"
            + (f" ({method_label(r)})" if method_label(r) != "finetune, final model" else "")
            + f": {fmt(r['pgr_median'])} | "
            f"{fmt(r['pgr_of_means_median'])} over {r['n_datasets']} datasets"
            + (
                f" ({r['n_datasets_pgr_undefined']} more with no gap to recover)"
                if r["n_datasets_pgr_undefined"]
                else ""
            )
            for r in medians.iter_rows(named=True)
        ]
    flagged = flagged_runs(runs)
    lines += (
        [f"\n{len(flagged)} flagged run(s):", *(f"  {line}" for line in flagged)] if flagged else []
    )
    if imitation:
        lines.append(
            "\nimitation: how often the student gives its supervisor's answer where that answer is wrong "
            "(results/analysis/agreement.csv has the ceiling's, the reference)"
        )
    if (runs["early_stopping"] != "none").any():
        lines.append(
            "\nearly stop weak_val: each run at its best agreement with its own supervision on the validation "
            "split; early stop oracle: at its best test accuracy (optimistic: it peeks at the test labels)"
        )
    return "\n".join(lines)


def runs_table_path(path: str) -> str:
    """The runs table from a path to it or to the results folder that holds it."""
    if Path(path).is_dir():
        for candidate in (Path(path) / "summary/runs.parquet", Path(path) / "runs.parquet"):
            if candidate.exists():
                return str(candidate)
        raise W2SError(f"{path} holds no summary/runs.parquet (written by the summarize_runs rule)")
    return path


def predictions_path(path: str) -> str:
    """A run folder's test predictions, or the predictions file given."""
    if Path(path).is_dir():
        if not (Path(path) / "test_predictions.parquet").exists():
            raise W2SError(
                f"{path} holds no test_predictions.parquet: give a run folder (results/student/..., "
                "results/ceiling/...) or a predictions file"
            )
        return str(Path(path) / "test_predictions.parquet")
    return path


def compare_runs(path_a: str, path_b: str) -> str:
    """Two runs' predictions of the same examples: accuracy of each and agreement between them, overall and per
    group, and where one is right and the other wrong."""
    a, b = (read_predictions(predictions_path(p)) for p in (path_a, path_b))
    joined = on_same_examples(
        a.select(
            "id",
            "group",
            hard_answers(a).alias("a"),
            pl.col("correct").alias("a_right"),
        ),
        b.select("id", hard_answers(b).alias("b"), pl.col("correct").alias("b_right")),
        f"{path_a} and {path_b}",
    )
    joined = joined.with_columns(same=pl.col("a") == pl.col("b"))
    lines = [
        f"A: {path_a}",
        f"B: {path_b}",
        f"{'group':<20} {'n':>6} {'acc A':>7} {'acc B':>7} {'agreement':>9}",
    ]
    stats = [
        pl.len().alias("n"),
        pl.col("a_right").mean().alias("acc_a"),
        pl.col("b_right").mean().alias("acc_b"),
        pl.col("same").mean().alias("agreement"),
    ]
    groups = joined.group_by("group").agg(stats).sort("group")
    rows = [("all", joined.select(stats).row(0))] + (
        [(r[0], r[1:]) for r in groups.rows()] if groups.height > 1 else []
    )
    lines += [
        f"{name:<20} {n:>6} {acc_a:>7.4f} {acc_b:>7.4f} {agreement:>9.4f}"
        for name, (n, acc_a, acc_b, agreement) in rows
    ]
    a_right, b_right = joined["a_right"], joined["b_right"]
    counts = {
        "both right": a_right & b_right,
        "only A right": a_right & ~b_right,
        "only B right": ~a_right & b_right,
        "both wrong": ~a_right & ~b_right,
    }
    lines.append("examples: " + ", ".join(f"{k} {int(v.sum())}" for k, v in counts.items()))
    return "\n".join(lines)


def check_config(path: str) -> str:
    """A config checked as the workflow checks it, without starting Snakemake (which reads a --configfile itself
    and says only "not valid JSON or YAML" for a syntax error, with no line)."""
    from w2s.pipeline.config import read_config_file, validate_config

    config = validate_config(read_config_file(path))
    pairs = "all pairs" if config["pairs"] == "all" else f"{len(config['pairs'])} pair(s)"
    return (
        f"{path}: ok ({len(config['datasets'])} dataset(s), {len(config['models'])} model(s), {pairs}, "
        f"{len(config['losses'])} loss(es), {len(config['seeds'])} seed(s))"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="w2s", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="check a config file as the workflow would, naming any bad key or line"
    )
    check.add_argument("path", nargs="?", default="config.yaml")
    labels = commands.add_parser(
        "labels", help="summarise a weak-label or test-prediction parquet file"
    )
    labels.add_argument("path")
    labels.add_argument("-n", "--examples", type=int, default=3, help="examples to show per group")
    summary = commands.add_parser(
        "summary", help="PGR per cell over seeds, and the runs flagged as suspicious"
    )
    summary.add_argument(
        "path", nargs="?", default="results", help="a results folder or its summary/runs.parquet"
    )
    compare = commands.add_parser(
        "compare", help="two runs' accuracy and agreement, overall and by group"
    )
    compare.add_argument("run_a")
    compare.add_argument("run_b")
    plan = commands.add_parser(
        "plan",
        help="the jobs a run would start, the hours they request and the checkpoints' "
        "disk, from a dry run",
    )
    plan.add_argument("path", nargs="?", default="config.yaml")
    plan.add_argument("-s", "--snakefile", default="Snakefile")
    fetch = commands.add_parser(
        "fetch",
        help="download every hub model and dataset the grid loads into the Hugging "
        "Face cache (HF_HUB_CACHE) and check them, so that its jobs can run offline",
    )
    fetch.add_argument("path", nargs="?", default="config.yaml")
    fetch.add_argument(
        "--cache-dir",
        help="the Hugging Face cache to fetch into (default: HF_HUB_CACHE or "
        "~/.cache/huggingface/hub); give the jobs the same HF_HUB_CACHE",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    # after --: more arguments for plan's dry run (--profile slurm), which argparse would take for its own
    snakemake_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        if args.command == "check":
            print(check_config(args.path))
        elif args.command == "labels":
            print(describe_labels(args.path, args.examples))
        elif args.command == "compare":
            print(compare_runs(args.run_a, args.run_b))
        elif args.command == "plan":
            from w2s.pipeline.plan import plan as describe_plan

            print(describe_plan(args.path, args.snakefile, snakemake_args))
        elif args.command == "fetch":
            from w2s.pipeline.config import read_config_file, validate_config
            from w2s.pipeline.fetch import fetch_grid

            if args.cache_dir:  # what huggingface_hub's downloads read at each call
                from huggingface_hub import constants

                constants.HF_HUB_CACHE = str(Path(args.cache_dir).expanduser().resolve())
            fetch_grid(
                validate_config(read_config_file(args.path)), lambda line: print(line, flush=True)
            )
        else:
            print(describe_summary(runs_table_path(args.path)))
    except W2SError as exc:
        print(f"w2s: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
