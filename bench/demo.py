"""The science benchmark: run a world experiment from scratch, once per pretraining seed, and write its results.

    python bench/demo.py [--configfile config.yaml] [--pretrain-seeds 0,1,2] [--cores all] [--out docs/demo.md]
                         [--plots accuracy_kb_facts,trajectories_kb_facts]

For each pretraining seed the whole pipeline (world, pretraining, finetuning, summary) runs in a fresh working
directory with every model's `pretrain.seed` set to it; the config's own `seeds` (the data splits and finetuning)
vary inside each run. The file written to --out holds, stamped with the commit and the machine:
- the headline table: every cell's accuracies pooled over all pretraining and config seeds, its PGR of the means
  (the paper's form) with the s.e.m. over pretraining seeds of each seed's PGR of its means, the same for the
  strong model's zero-shot answer, and the mean of the runs' PGRs;
- the robustness table: each cell's PGR of the means per pretraining seed side by side, its largest distance from
  the mean over pretraining seeds, and the weak models' accuracy per pretraining seed;
- the imitation table: how often each student gives its supervisor's answer where that answer is wrong (and where
  it is right), over pretraining seeds, with the ceiling's as the reference (the agreement analysis);
- the losses compared, paired by pretraining seed: each loss's PGR of the means minus xent's in the same cell,
  per pretraining seed, with its mean, s.e.m. and 95% t interval;
- the methods compared the same way, where the config has them: each bootstrapping chain and early stop minus the
  plain student of its cell (the same models and loss, taught directly, its final model);
- PGR of the means within each group of test examples (the groups analysis), where the task has several;
- runs below chance (a student under 0.5 on a classification task's balanced test split), and the wall time of
  each run; the headline table has the strong model's zero-shot accuracy (where the config runs it).
With --plots, the named plots of the first pretraining seed's run (results/plots/<name>.png) are copied beside the
--out file as <its stem>_<name>.png (docs/demo.md: demo_<name>.png), and the file lists them, so that the figures in
the docs come from the same run. With --tables-from WORKDIR --runs-made-at COMMIT, nothing runs: the tables are
rendered again from the runs an earlier call left in WORKDIR (its summary, analyses and each run's wall time), and
the file says which commit made the runs. bench/regenerate.py runs it for every published table at one commit.
A benchmark, not a test: nothing here is asserted, the numbers are for reading (and for the README).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import torch
import yaml
from stamp import commit

from w2s.analysis.summary import BELOW_CHANCE, GROUP, aggregate, t95_half_width
from w2s.analysis.summary import method_label as method

REPO = Path(__file__).resolve().parents[1]
CELL = ["dataset", *GROUP[1:]]


def with_pretrain_seed(config: dict, seed: int) -> dict:
    models = {
        name: {**entry, "pretrain": {**entry["pretrain"], "seed": seed}}
        if "pretrain" in entry
        else entry
        for name, entry in config["models"].items()
    }
    return {**config, "models": models}


def run_once(config: dict, workdir: Path, cores: str) -> tuple[pl.DataFrame, float]:
    workdir.mkdir(parents=True, exist_ok=True)
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    # A warm-start folder of its own: the run starts its own worker, as on a fresh machine, and pays for that.
    env = {**os.environ, "W2S_WARM_DIR": tempfile.mkdtemp(prefix="w2s-warm-")}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "-d",
            str(workdir),
            "--configfile",
            str(configfile),
            "--cores",
            cores,
            "--quiet",
        ],
        check=True,
        env=env,
    )
    wall = time.perf_counter() - start
    # Kept beside the run, so that tables rendered later from this folder (--tables-from) still say what it took.
    (workdir / "wall_s").write_text(f"{wall:.1f}\n")
    return pl.read_parquet(workdir / "results/summary/runs.parquet"), wall


def plot_file(out: str | None, name: str) -> str:
    # Named after the tables' file, so that two worlds' plots of the same name sit side by side in docs/.
    return f"{Path(out).stem if out else 'demo'}_{name}.png"


def stamp(cores: str, config: dict) -> str:
    threads = sorted({entry.get("threads", 1) for entry in config["models"].values()})
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else "?"
    )
    return (
        f"commit `{commit(12)}`, {time.strftime('%Y-%m-%d')}; machine: {cpu}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} (CPU kernels: {torch.backends.cpu.get_cpu_capability()}), "
        f"Snakemake --cores {cores}, torch threads per job {threads}, "
        f"Python {platform.python_version()}"
    )


def pm(mean: float | None, sem: float | None, digits: int = 3) -> str:
    if mean is None:
        return "undefined"
    return f"{mean:.{digits}f}" + (f" ± {sem:.{digits}f}" if sem is not None else "")


def interval(center: float | None, half: float | None) -> str:
    if center is None or half is None:
        return ""
    return f"[{center - half:.2f}, {center + half:.2f}]"


# The untrained strong model's PGRs of the means: its zero-shot answer, and its answers to k-shot prompts with true
# labels and with the weak model's
BASELINE_PGRS = {
    "zero-shot": "zero_shot_pgr_of_means",
    "k-shot, true labels": "few_shot_pgr_of_means",
    "k-shot, weak labels": "few_shot_weak_pgr_of_means",
}


def seed_means(runs: pl.DataFrame) -> pl.DataFrame:
    """Each cell's PGR of the means, and its untrained baselines' (BASELINE_PGRS), within each pretraining seed
    (over its config seeds): one sample per pretraining seed, for error bars over pretraining seeds."""
    return pl.concat(
        aggregate(runs.filter(pl.col("pretrain_seed") == seed))
        .select(*CELL, "pgr_of_means", *BASELINE_PGRS.values())
        .with_columns(pl.lit(seed).alias("pretrain_seed"))
        for seed in runs["pretrain_seed"].unique(maintain_order=True)
    )


def over_seeds(values: list) -> tuple[float | None, float | None]:
    """Mean and s.e.m. over pretraining seeds of the defined values."""
    known = [v for v in values if v is not None]
    if not known:
        return None, None
    mean = sum(known) / len(known)
    if len(known) < 2:
        return mean, None
    return mean, (sum((v - mean) ** 2 for v in known) / (len(known) - 1)) ** 0.5 / len(known) ** 0.5


def headline(runs: pl.DataFrame) -> str:
    """Every cell pooled over pretraining and config seeds: accuracies as mean ± s.e.m. over those runs; PGR of the
    pooled means (the headline), with the s.e.m. over pretraining seeds of each seed's PGR of its means; the same for
    the strong model's zero-shot answer; and the mean of the runs' PGRs."""
    per_seed = runs.group_by("pretrain_seed").len().height
    lines = [
        "| weak | strong | loss | method | runs | weak | ceiling | student | strong zero-shot | "
        f"**PGR of the means** (± s.e.m. over {per_seed} pretraining seeds) | 95% t interval | "
        "zero-shot PGR of the means | PGR (mean of runs) | students below chance |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_seed = seed_means(runs)
    for row in aggregate(runs).iter_rows(named=True):
        cell = by_seed.filter(pl.all_horizontal([pl.col(c) == row[c] for c in CELL]))
        _, pgr_sem = over_seeds(cell["pgr_of_means"].to_list())
        half = t95_half_width(pgr_sem, cell["pgr_of_means"].drop_nulls().len())
        _, zero_shot_sem = over_seeds(cell["zero_shot_pgr_of_means"].to_list())
        undefined = f" ({row['n_pgr_undefined']} undefined)" if row["n_pgr_undefined"] else ""
        zero_shot = (
            "not run"
            if row["strong_zero_shot_acc_mean"] is None
            else pm(row["strong_zero_shot_acc_mean"], row["strong_zero_shot_acc_sem"])
        )
        lines.append(
            f"| {row['weak']} | {row['strong']} | {row['loss']} | {method(row)} | {row['n_seeds']} | "
            f"{pm(row['weak_acc_mean'], row['weak_acc_sem'])} | "
            f"{pm(row['ceiling_acc_mean'], row['ceiling_acc_sem'])} | "
            f"{pm(row['student_acc_mean'], row['student_acc_sem'])} | "
            f"{zero_shot} | **{pm(row['pgr_of_means'], pgr_sem, 2)}** | {interval(row['pgr_of_means'], half)} | "
            f"{pm(row['zero_shot_pgr_of_means'], zero_shot_sem, 2) if zero_shot != 'not run' else 'not run'} | "
            f"{pm(row['pgr_mean'], row['pgr_sem'], 2)}{undefined} | {row['n_below_chance']} |"
        )
    return "\n".join(lines)


def imitation(workdir: Path, seeds: list[int]) -> str:
    """How often each student (and, for reference, the ceiling) gives its weak supervisor's answer where that answer
    is wrong, on the test split (the pipeline's agreement analysis): mean over config seeds within each pretraining
    seed, then mean ± s.e.m. over pretraining seeds. Empty where the config runs no agreement analysis."""
    paths = [workdir / f"pretrain_seed{s}/results/analysis/agreement.parquet" for s in seeds]
    if not all(path.exists() for path in paths):
        return ""
    keys = ["weak", "strong", "role", "loss", "chain"]
    table = pl.concat(
        pl.read_parquet(path).with_columns(pl.lit(seed).alias("pretrain_seed"))
        for seed, path in zip(seeds, paths)
    ).with_columns(pl.col("loss").fill_null(""), pl.col("chain").fill_null(""))
    per_seed = table.group_by([*keys, "pretrain_seed"]).agg(
        pl.col("agreement_weak_wrong", "agreement_weak_right").mean()
    )
    lines = [
        "| weak | strong | model | imitation: agreement with the weak model where it is wrong (± s.e.m. over "
        "pretraining seeds) | agreement where it is right |",
        "|---|---|---|---|---|",
    ]
    for cell in per_seed.select(keys).unique().sort(keys).iter_rows(named=True):
        seeds_of_cell = per_seed.filter(
            pl.all_horizontal([pl.col(k) == v for k, v in cell.items()])
        )
        model = "ceiling" if cell["role"] == "ceiling" else f"student, {cell['loss']}"
        model += f", chain {cell['chain']}" if cell["chain"] else ""
        lines.append(
            f"| {cell['weak']} | {cell['strong']} | {model} | "
            f"{pm(*over_seeds(seeds_of_cell['agreement_weak_wrong'].to_list()), 2)} | "
            f"{pm(*over_seeds(seeds_of_cell['agreement_weak_right'].to_list()), 2)} |"
        )
    return "\n".join(lines)


def prompting(runs: pl.DataFrame) -> str:
    """Where k-shot prompts were scored (config few_shot): per pair, the strong model's untrained answers as PGRs of
    the means beside the finetuned student's (xent, final model), each with its 95% t interval over pretraining
    seeds; empty where none were."""
    cells = aggregate(runs).filter(
        pl.col("few_shot_pgr_of_means").is_not_null()
        | pl.col("few_shot_weak_pgr_of_means").is_not_null()
    )
    if cells.is_empty():
        return ""
    by_seed = seed_means(runs)
    names = {"student": "pgr_of_means", **BASELINE_PGRS}
    lines = [
        "| weak | strong | loss | method | "
        + " | ".join(f"{n} PGR [95% t interval]" for n in names)
        + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for row in cells.iter_rows(named=True):
        cell = by_seed.filter(pl.all_horizontal([pl.col(c) == row[c] for c in CELL]))
        values = []
        for column in names.values():
            _, sem = over_seeds(cell[column].to_list())
            half = t95_half_width(sem, cell[column].drop_nulls().len())
            values.append(f"{pm(row[column], None, 2)} {interval(row[column], half)}")
        lines.append(
            f"| {row['weak']} | {row['strong']} | {row['loss']} | {method(row)} | "
            + " | ".join(values)
            + " |"
        )
    return "\n".join(lines)


def paired_differences(
    per_seed: pl.DataFrame, baseline: pl.Expr, differing: tuple[str, ...], against: str
) -> str:
    """Each cell (per_seed: seed_means) against the `baseline` cell that is the same but in the `differing` columns,
    paired by pretraining seed: the difference of the two PGRs of the means within each pretraining seed, then its
    mean, s.e.m. and 95% t interval over pretraining seeds (a paired comparison: what the two share within a seed,
    its world and models, cancels). `against` names the baseline in the header; empty where nothing pairs."""
    same = [c for c in CELL if c not in differing]
    base = per_seed.filter(baseline).select(
        *same, "pretrain_seed", pl.col("pgr_of_means").alias("base")
    )
    paired = (
        per_seed.filter(~baseline)
        .join(base, on=[*same, "pretrain_seed"])
        .with_columns((pl.col("pgr_of_means") - pl.col("base")).alias("difference"))
    )
    if paired.is_empty():
        return ""
    lines = [
        f"| weak | strong | loss | method | PGR of the means minus {against}, per pretraining seed | mean ± "
        "s.e.m. | 95% t interval |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in paired.select(CELL).unique(maintain_order=True).iter_rows(named=True):
        values = paired.filter(pl.all_horizontal([pl.col(k) == v for k, v in key.items()]))
        differences = values.sort("pretrain_seed")["difference"].to_list()
        mean, sem = over_seeds(differences)
        half = t95_half_width(sem, len([d for d in differences if d is not None]))
        lines.append(
            f"| {key['weak']} | {key['strong']} | {key['loss']} | {method(key)} | "
            + ", ".join(pm(d, None, 2) for d in differences)
            + f" | {pm(mean, sem, 2)} | {interval(mean, half)} |"
        )
    return "\n".join(lines)


def loss_differences(runs: pl.DataFrame, baseline: str = "xent") -> str:
    """Each loss against `baseline` in the same cell (weak, strong, method), paired by pretraining seed
    (paired_differences)."""
    return paired_differences(
        seed_means(runs), pl.col("loss") == baseline, ("loss",), f"{baseline}'s"
    )


# A student taught directly by its weak model, its final model kept: what a bootstrapping chain or an early stop
# is measured against
PLAIN = (pl.col("chain").fill_null("") == "") & (pl.col("early_stopping") == "none")


def method_differences(runs: pl.DataFrame) -> str:
    """Each bootstrapping chain and early stop against the plain student of its cell (the same weak and strong
    models and loss, taught directly, its final model), paired by pretraining seed (paired_differences).
    Strong-to-strong pairs are left out (their PGR measures noise); a probe's or a generatively finetuned model's
    rows are compared with its own plain student, as their ceilings are their own."""
    per_seed = seed_means(runs).filter(pl.col("weak") != pl.col("strong"))
    return paired_differences(per_seed, PLAIN, ("chain", "early_stopping"), "the plain student's")


def group_cell(row: dict | None) -> str:
    """A group's PGR; where it has none (too small a gap to make a ratio of, groups.MIN_GROUP_GAP), its gap."""
    if row is None:
        return ""
    if row["pgr_of_means"] is None:
        return f"(gap {row['ceiling_acc_mean'] - row['weak_acc_mean']:.2f})"
    return pm(row["pgr_of_means"], None, 2)


def group_pgrs(workdir: Path, seeds: list[int]) -> str:
    """PGR of the means within each group of test examples (the groups analysis), pooled over pretraining and
    config seeds, for every final-model student: where a student recovers the gap on some groups and not others.
    Where the ceiling beats the weak model by less than groups.MIN_GROUP_GAP in a group, the gap is shown instead of
    a ratio of noise. Empty where the task's examples have one group."""
    from w2s.analysis.groups import group_pgr

    paths = [workdir / f"pretrain_seed{s}/results/analysis/groups.parquet" for s in seeds]
    if not all(path.exists() for path in paths):
        return ""
    table = pl.concat(
        pl.read_parquet(path).with_columns(pl.col("seed") + 1000 * seed)  # one "seed" per run
        for seed, path in zip(seeds, paths)
    )
    if table["group"].n_unique() < 2:
        return ""
    groups = sorted(table["group"].unique())
    cells = group_pgr(table)
    lines = [
        "| weak | strong | loss | " + " | ".join(groups) + " |",
        "|---|---|---|" + "---|" * len(groups),
    ]
    for key in (
        cells.select("weak", "strong", "loss", "chain")
        .unique(maintain_order=True)
        .iter_rows(named=True)
    ):
        rows = cells.filter(pl.all_horizontal([pl.col(k) == v for k, v in key.items()]))
        by_group = {r["group"]: r for r in rows.iter_rows(named=True)}
        loss = key["loss"] + (f", chain {key['chain']}" if key["chain"] else "")
        lines.append(
            f"| {key['weak']} | {key['strong']} | {loss} | "
            + " | ".join(group_cell(by_group.get(g)) for g in groups)
            + " |"
        )
    return "\n".join(lines)


def robustness(runs: pl.DataFrame, seeds: list[int]) -> str:
    """Each cell's PGR of the means per pretraining seed (over its config seeds); their mean ± s.e.m. over
    pretraining seeds (each seed one sample: error bars that cover pretraining and finetuning alike), and the largest
    distance from that mean."""
    per_seed = seed_means(runs).rename({"pgr_of_means": "pgr"})
    lines = [
        "| weak | strong | loss | method | "
        + " | ".join(f"PGR of the means, pretrain seed {s}" for s in seeds)
        + " | mean ± s.e.m. over pretraining seeds | largest distance |",
        "|---|---|---|---|" + "---|" * (len(seeds) + 2),
    ]
    for cell in runs.select(CELL).unique(maintain_order=True).iter_rows():
        values = [
            per_seed.filter(
                pl.all_horizontal([pl.col(c) == v for c, v in zip(CELL, cell)])
                & (pl.col("pretrain_seed") == s)
            )["pgr"].item()
            for s in seeds
        ]
        mean, sem = over_seeds(values)
        known = [v for v in values if v is not None]
        spread = max(abs(v - mean) for v in known) if known else None
        lines.append(
            f"| {cell[1]} | {cell[2]} | {cell[3]} | {method(dict(zip(CELL, cell)))} | "
            + " | ".join(pm(v, None, 2) for v in values)
            + f" | {pm(mean, sem, 2)} | {pm(spread, None, 2)} |"
        )
    weak = runs.group_by(["weak", "pretrain_seed"]).agg(pl.col("weak_acc").mean())
    lines += [
        "",
        "| weak model | "
        + " | ".join(f"accuracy, pretrain seed {s}" for s in seeds)
        + " | range |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]
    for model in runs["weak"].unique(maintain_order=True):
        accs = [
            weak.filter((pl.col("weak") == model) & (pl.col("pretrain_seed") == s))[
                "weak_acc"
            ].item()
            for s in seeds
        ]
        lines.append(
            f"| {model} | "
            + " | ".join(f"{a:.3f}" for a in accs)
            + f" | {max(accs) - min(accs):.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configfile", default=str(REPO / "config.yaml"))
    parser.add_argument(
        "--pretrain-seeds", default="0", help="comma-separated pretraining seeds (e.g. 0,1,2)"
    )
    parser.add_argument("--cores", default="all")
    parser.add_argument("--out", help="markdown file to write the tables to (e.g. docs/demo.md)")
    parser.add_argument(
        "--keep", help="working directory to use and keep (default: a temporary one)"
    )
    parser.add_argument(
        "--plots", default="", help="comma-separated names of plots to copy beside --out"
    )
    parser.add_argument(
        "--tables-from",
        help="render the tables from the runs kept in this working directory (a --keep folder, or the temporary "
        "one a run printed) instead of running; give --runs-made-at",
    )
    parser.add_argument(
        "--runs-made-at", help="with --tables-from: the commit the runs were made at"
    )
    args = parser.parse_args()
    if args.tables_from and not args.runs_made_at:
        parser.error(
            "--tables-from needs --runs-made-at COMMIT: the tables must say what made the runs"
        )
    seeds = [int(s) for s in args.pretrain_seeds.split(",")]
    config = yaml.safe_load(Path(args.configfile).read_text())
    workdir = Path(args.tables_from or args.keep or tempfile.mkdtemp(prefix="w2s-demo-"))
    print(f"working directory: {workdir}", flush=True)
    frames, walls = [], {}
    for seed in seeds:
        if args.tables_from:
            runs = pl.read_parquet(workdir / f"pretrain_seed{seed}/results/summary/runs.parquet")
            wall_file = workdir / f"pretrain_seed{seed}/wall_s"
            if wall_file.exists():
                walls[seed] = float(wall_file.read_text())
        else:
            runs, walls[seed] = run_once(
                with_pretrain_seed(config, seed), workdir / f"pretrain_seed{seed}", args.cores
            )
            print(f"pretrain seed {seed}: {walls[seed]:.0f} s", flush=True)
        frames.append(runs.with_columns(pl.lit(seed).alias("pretrain_seed")))
    runs = pl.concat(frames)
    made = (
        f"Runs made by `bench/demo.py` at commit `{args.runs_made_at}`; tables rendered from them (`--tables-from`) at "
        if args.tables_from
        else ""
    )
    below = runs.filter(pl.col("flags").str.contains(BELOW_CHANCE, literal=True))
    report = (
        "\n\n".join(
            [
                f"# Results of `{Path(args.configfile).name}`, pretraining seeds {args.pretrain_seeds}",
                f"Written by `python bench/demo.py --configfile {Path(args.configfile).name} --pretrain-seeds "
                f"{args.pretrain_seeds}`. {made or 'At '}{stamp(args.cores, config)}.",
                f"Each cell pools {len(seeds)} pretraining seed(s) x the config's seeds {config.get('seeds', [0])} "
                "(data splits and finetuning); mean ± s.e.m. over those runs. "
                "'PGR of the means' is the paper's form, (student − weak) / (ceiling − weak) of the mean accuracies, "
                "with the s.e.m. over pretraining seeds of each seed's own PGR of the means; 'zero-shot PGR' is the "
                "same for the strong model's untrained answer (a student must beat it for its supervision to count); "
                "'PGR (mean of runs)' averages each run's PGR.",
                headline(runs),
                "## Across pretraining seeds",
                robustness(runs, seeds),
                "## Losses compared, paired by pretraining seed",
                loss_differences(runs) or "One loss only, or no xent to compare with.",
                *(
                    [
                        "## Methods compared with the plain student, paired by pretraining seed",
                        method_differences(runs),
                    ]
                    if method_differences(runs)
                    else []
                ),
                *(
                    [
                        "## Prompting baselines: the untrained strong model beside its student",
                        prompting(runs),
                    ]
                    if prompting(runs)
                    else []
                ),
                "## Imitation of the weak supervisor",
                imitation(workdir, seeds) or "No agreement analysis in this config.",
                "## PGR per group of test examples (PGR of the means over all runs)",
                group_pgrs(workdir, seeds) or "The task's examples have one group.",
                f"Runs with a student below chance (accuracy < 0.5 on a classification task; generated answers have "
                f"no chance level): {below.height} of {runs.height}"
                + (
                    "".join(
                        f"\n- {r['weak']} → {r['strong']}, {r['loss']} ({method(r)}), config seed {r['seed']}, "
                        f"pretrain seed {r['pretrain_seed']}: {r['student_acc']:.3f}"
                        for r in below.iter_rows(named=True)
                    )
                ),
                "Wall time per run (the whole pipeline from an empty folder): "
                + (
                    ", ".join(f"pretrain seed {s}: {w:.0f} s" for s, w in walls.items())
                    or "in the file written when the runs were made"
                ),
            ]
        )
        + "\n"
    )
    plots = [name for name in args.plots.split(",") if name]
    if plots:
        report += (
            "\nPlots of pretraining seed "
            + str(seeds[0])
            + ": "
            + ", ".join(f"[{name}]({plot_file(args.out, name)})" for name in plots)
            + "\n"
        )
    print(report)
    if args.out:
        Path(args.out).write_text(report)
        print(f"written to {args.out}")
        for name in plots:
            target = Path(args.out).parent / plot_file(args.out, name)
            shutil.copyfile(workdir / f"pretrain_seed{seeds[0]}/results/plots/{name}.png", target)
            print(f"copied {name}.png to {target}")


if __name__ == "__main__":
    main()
