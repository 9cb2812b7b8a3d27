"""What a Nim world's models answer: for each model's answers on the test split (untrained, finetuned on the truth as
a weak supervisor, and as ceiling, student or chain link) and for its weak labels, the share of legal moves and the
share of wrong answers that are the heuristic player's move.

    python bench/nim_errors.py WORKDIR [WORKDIR ...]

WORKDIR is a results folder's parent (a `bench/demo.py --keep` folder holds one per pretraining seed: pass each, or
the --keep folder, whose pretrain_seed*/ it reads). A world where weak errors are the heuristic's is one whose
students could learn to repeat them from a rule every model knows; errors of a model's own are not.
A benchmark, not a test: it prints a table for reading.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from w2s.data.nim import heaps_of, heuristic_move, written


def answer_files(results: Path):
    """(kind, model, file) for every answers file of the test split and every weak labels file."""
    for path in sorted(results.glob("zero_shot/*/seed*/*/test_predictions.parquet")):
        yield "untrained, test", path.parent.name, path
    for path in sorted(results.glob("weak/*/seed*/*/test_predictions.parquet")):
        yield "weak (finetuned on the truth), test", path.parent.name, path
    for path in sorted(results.glob("labels/*/seed*/*.parquet")):
        yield "weak labels", path.stem, path
    for path in sorted(results.glob("ceiling/*/seed*/*/test_predictions.parquet")):
        yield "ceiling, test", path.parent.name, path
    for path in sorted(results.glob("student/*/seed*/*/*/*/test_predictions.parquet")):
        yield "student, test", f"{path.parents[2].name} -> {path.parents[1].name}", path
    for path in sorted(results.glob("chain/*/seed*/*/*/*/test_predictions.parquet")):
        yield "chain link, test", f"{path.parents[2].name} ({path.parent.name})", path


def heuristic_share(path: Path) -> tuple[int, int, float, float]:
    """(answers, wrong answers, share of the wrong ones that are the heuristic's move, share of legal moves)."""
    table = pl.read_parquet(path, columns=["text", "generated", "correct", "legal"])
    wrong = table.filter(~pl.col("correct"))
    heuristic = [written(heuristic_move(heaps_of(p))) for p in wrong["text"]]
    share = (wrong["generated"] == pl.Series(heuristic)).mean() if len(wrong) else float("nan")
    return len(table), len(wrong), share, float(table["legal"].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdirs", nargs="+", type=Path)
    args = parser.parse_args()
    results = []
    for workdir in args.workdirs:
        seeds = sorted(workdir.glob("pretrain_seed*/results")) or [workdir / "results"]
        results += [r for r in seeds if r.is_dir()]
    if not results:
        sys.exit(f"no results folder under {', '.join(map(str, args.workdirs))}")
    rows = [
        {
            "answers": kind,
            "model": model,
            "n": n,
            "wrong": wrong,
            "heuristic": share,
            "legal": legal,
        }
        for folder in results
        for kind, model, path in answer_files(folder)
        for n, wrong, share, legal in [heuristic_share(path)]
    ]
    table = (
        pl.DataFrame(rows)
        .group_by("answers", "model", maintain_order=True)
        .agg(
            files=pl.len(),
            error_rate=(pl.col("wrong").sum() / pl.col("n").sum()),
            heuristic_share_of_errors=pl.col("heuristic").mean(),
            legal_min=pl.col("legal").min(),
            legal_mean=pl.col("legal").mean(),
        )
    )
    print(f"{len(results)} results folder(s)")
    print(
        "| answers | model | files | error rate | share of errors that are the heuristic's move | legal moves "
        "(mean; lowest file) |"
    )
    print("|---|---|---|---|---|---|")
    for r in table.iter_rows(named=True):
        print(
            f"| {r['answers']} | {r['model']} | {r['files']} | {r['error_rate']:.3f} | "
            f"{r['heuristic_share_of_errors']:.2f} | {r['legal_mean']:.3f}; {r['legal_min']:.3f} |"
        )


if __name__ == "__main__":
    main()
