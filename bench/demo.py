"""The science benchmark: run the default experiment from scratch and print its weak-to-strong results.

    python bench/demo.py [--configfile config.yaml] [--cores 2] [--keep DIR]

Runs the whole pipeline (world, pretraining, finetuning, summary) in a fresh working directory, then prints weak,
ceiling and student accuracy, PGR (mean ± s.e.m. over seeds), the zero-shot baselines and the wall time. This is a
benchmark, not a test: its numbers depend on the recipe and are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ["weak_acc", "ceiling_acc", "student_acc", "pgr", "weak_zero_shot_acc", "strong_zero_shot_acc"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", default=str(REPO / "config.yaml"))
    parser.add_argument("--cores", default="all")
    parser.add_argument("--keep", help="working directory to use and keep (default: a temporary one)")
    args = parser.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="w2s-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
                    "--configfile", str(Path(args.configfile).resolve()), "--cores", args.cores, "--quiet"],
                   check=True)
    seconds = time.perf_counter() - start
    agg = pl.read_csv(workdir / "results/summary/aggregate.csv")
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(agg.select("dataset", "weak", "strong", "loss", "n_seeds", *[
            pl.format("{} ± {}", pl.col(f"{c}_mean").round(3), pl.col(f"{c}_sem").round(3)).alias(c)
            for c in COLUMNS if agg[f"{c}_mean"].null_count() < agg.height]))
    print(f"wall time: {seconds:.0f} s (--cores {args.cores}); results in {workdir}")


if __name__ == "__main__":
    main()
