"""Where the default run's time goes, for this checkout against an earlier commit, one after the other.

    python bench/default_run.py --baseline REV [--rounds 2] [--configfile config.yaml] [--cores 2] [--keep DIR]

Runs the whole pipeline from scratch with each code version (the baseline in a temporary git worktree), in
interleaved rounds (baseline, this, baseline, this, ...), then prints each round's wall times, the median ratio,
the jobs and job seconds per rule of the last round (from the rules' benchmark files), and whether the per-run test
accuracies are identical. Without --configfile each checkout runs its own config.yaml (a key the baseline does not
know would stop it). A benchmark, not a test: the machine is shared and noisy, so compare the columns of one run,
not numbers across runs.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
RUN_KEYS = ["dataset", "seed", "weak", "strong", "loss"]
ACCURACIES = [
    "weak_acc",
    "ceiling_acc",
    "student_acc",
    "weak_zero_shot_acc",
    "strong_zero_shot_acc",
]


def run_pipeline(checkout: Path, configfile: Path, workdir: Path, cores: str) -> float:
    # A warm-start folder of its own: the run starts its own worker, as on a fresh machine, and pays for that.
    env = {**os.environ, "W2S_WARM_DIR": tempfile.mkdtemp(prefix="w2s-warm-")}
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(checkout / "Snakefile"),
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
    return time.perf_counter() - start


def job_seconds(workdir: Path) -> dict[str, tuple[int, float]]:
    """Rule (the benchmark file's top folder) -> (jobs, summed wall seconds)."""
    totals: dict[str, list] = defaultdict(lambda: [0, 0.0])
    for path in (workdir / "benchmarks").rglob("*.tsv"):
        with open(path) as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        rule = path.relative_to(workdir / "benchmarks").parts[0]
        totals[rule][0] += 1
        totals[rule][1] += float(row["s"])
    return {rule: (jobs, seconds) for rule, (jobs, seconds) in sorted(totals.items())}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--baseline", required=True, help="the commit to compare with (e.g. HEAD~3 or a hash)"
    )
    parser.add_argument(
        "--configfile", help="the grid both run (default: each checkout's own config.yaml)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds of the two runs")
    parser.add_argument("--cores", default="2")
    parser.add_argument(
        "--keep", help="folder for the two working directories (default: a temporary one)"
    )
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="w2s-default-run-"))
    root.mkdir(parents=True, exist_ok=True)
    baseline = root / "baseline-code"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), args.baseline],
        check=True,
    )
    commits = {
        name: subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for name, checkout in (("baseline", baseline), ("this", REPO))
    }
    checkouts = {"baseline": baseline, "this": REPO}
    walls: dict[str, list[float]] = {name: [] for name in checkouts}
    try:
        for round_ in range(args.rounds):
            for name, checkout in checkouts.items():
                workdir = root / f"{name}{round_}"
                configfile = (
                    Path(args.configfile).resolve() if args.configfile else checkout / "config.yaml"
                )
                walls[name].append(run_pipeline(checkout, configfile, workdir, args.cores))
                print(f"round {round_ + 1}: {name} {walls[name][-1]:.1f} s", flush=True)
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=True
        )

    median = statistics.median(b / t for b, t in zip(walls["baseline"], walls["this"], strict=True))
    print(
        f"default run, --cores {args.cores}, {args.rounds} round(s): baseline {commits['baseline']} "
        + ", ".join(f"{w:.1f}" for w in walls["baseline"])
        + f" s; this checkout {commits['this']} "
        + ", ".join(f"{w:.1f}" for w in walls["this"])
        + f" s; median baseline/this {median:.3f} "
        f"(this takes {100 * (1 / median - 1):+.1f}%)"
    )
    last = args.rounds - 1
    jobs = {name: job_seconds(root / f"{name}{last}") for name in walls}
    print(f"{'rule':<16}{'jobs':>6}{'job s':>9}   ->{'jobs':>6}{'job s':>9}")
    for rule in sorted(set(jobs["baseline"]) | set(jobs["this"])):
        (n0, s0), (n1, s1) = (jobs[name].get(rule, (0, 0.0)) for name in ("baseline", "this"))
        print(f"{rule:<16}{n0:>6}{s0:>9.1f}   ->{n1:>6}{s1:>9.1f}")
    totals = [(sum(n for n, _ in j.values()), sum(s for _, s in j.values())) for j in jobs.values()]
    print(
        f"{'all':<16}{totals[0][0]:>6}{totals[0][1]:>9.1f}   ->{totals[1][0]:>6}{totals[1][1]:>9.1f}"
    )

    runs = [
        pl.read_csv(root / f"{name}{last}" / "results/summary/runs.csv").sort(RUN_KEYS)
        for name in walls
    ]
    same = runs[0].select(RUN_KEYS + ACCURACIES).equals(runs[1].select(RUN_KEYS + ACCURACIES))
    print(
        f"per-run accuracies ({runs[0].height} runs) identical: {same}; working directories in {root}"
    )


if __name__ == "__main__":
    main()
