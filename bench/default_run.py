"""Where the default run's time goes, for this checkout against an earlier commit, one after the other.

    python bench/default_run.py --baseline REV [--configfile config.yaml] [--cores 2] [--keep DIR]

Runs the whole pipeline from scratch with each code version (the baseline in a temporary git worktree), then prints
the wall times and their ratio, the jobs and job seconds per rule (from the rules' benchmark files), and whether
the per-run test accuracies are identical. A benchmark, not a test: the machine is shared and noisy, so compare the
two columns of one run, not numbers across runs.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
RUN_KEYS = ["dataset", "seed", "weak", "strong", "loss"]
ACCURACIES = ["weak_acc", "ceiling_acc", "student_acc", "weak_zero_shot_acc", "strong_zero_shot_acc"]


def run_pipeline(checkout: Path, configfile: Path, workdir: Path, cores: str) -> float:
    # A warm-start folder of its own: the run starts its own worker, as on a fresh machine, and pays for that.
    env = {**os.environ, "W2S_WARM_DIR": tempfile.mkdtemp(prefix="w2s-warm-")}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(checkout / "Snakefile"), "-d", str(workdir),
                    "--configfile", str(configfile), "--cores", cores, "--quiet"], check=True, env=env)
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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="the commit to compare with (e.g. HEAD~3 or a hash)")
    parser.add_argument("--configfile", default=str(REPO / "config.yaml"))
    parser.add_argument("--cores", default="2")
    parser.add_argument("--keep", help="folder for the two working directories (default: a temporary one)")
    args = parser.parse_args()
    root = Path(args.keep or tempfile.mkdtemp(prefix="w2s-default-run-"))
    root.mkdir(parents=True, exist_ok=True)
    configfile = Path(args.configfile).resolve()
    baseline = root / "baseline-code"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), args.baseline], check=True)
    commits = {name: subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], check=True,
                                    capture_output=True, text=True).stdout.strip()
               for name, checkout in (("baseline", baseline), ("this", REPO))}
    try:
        walls = {name: run_pipeline(checkout, configfile, root / name, args.cores)
                 for name, checkout in (("baseline", baseline), ("this", REPO))}
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=True)

    print(f"default run, --cores {args.cores}: baseline {commits['baseline']} {walls['baseline']:.0f} s, "
          f"this checkout {commits['this']} {walls['this']:.0f} s: {walls['baseline'] / walls['this']:.2f}x faster")
    jobs = {name: job_seconds(root / name) for name in walls}
    print(f"{'rule':<16}{'jobs':>6}{'job s':>9}   ->{'jobs':>6}{'job s':>9}")
    for rule in sorted(set(jobs["baseline"]) | set(jobs["this"])):
        (n0, s0), (n1, s1) = (jobs[name].get(rule, (0, 0.0)) for name in ("baseline", "this"))
        print(f"{rule:<16}{n0:>6}{s0:>9.1f}   ->{n1:>6}{s1:>9.1f}")
    totals = [(sum(n for n, _ in j.values()), sum(s for _, s in j.values())) for j in jobs.values()]
    print(f"{'all':<16}{totals[0][0]:>6}{totals[0][1]:>9.1f}   ->{totals[1][0]:>6}{totals[1][1]:>9.1f}")

    runs = [pl.read_csv(root / name / "results/summary/runs.csv").sort(RUN_KEYS) for name in walls]
    same = runs[0].select(RUN_KEYS + ACCURACIES).equals(runs[1].select(RUN_KEYS + ACCURACIES))
    print(f"per-run accuracies ({runs[0].height} runs) identical: {same}; working directories in {root}")


if __name__ == "__main__":
    main()
