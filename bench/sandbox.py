"""The feature sandbox's grid (w2s/analysis/sandbox.py): every combination of the knobs given, over seeds, as a
markdown table, in seconds. Write the prediction down first (docs/sandbox.md), then run:

    python bench/sandbox.py --q 0.1,0.3,0.7,0.9 --sigma 0.1,0.5,1 [--a 1] [--b 1] [--eps 0.3] [--seeds 5] [--out FILE]

Each row: the mean accuracies over the seeds (each seed draws its own items, noise and supervisor's knowledge),
PGR of those means with a 95% t interval over the seeds' own PGRs, the sigma -> 0 limit, and the student's
imitation (agreement with its supervisor where the supervisor is wrong).
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import time
from pathlib import Path

import numpy as np
from stamp import commit

from w2s.analysis.sandbox import Sandbox, limit_pgr, pgr, run
from w2s.analysis.summary import t95_half_width

KNOBS = ("a", "b", "eps", "q", "flip", "sigma")


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def row(world: Sandbox, seeds: int) -> str:
    runs = [run(world, seed) for seed in range(seeds)]
    means = {k: statistics.fmean(r[k] for r in runs) for k in ("weak", "ceiling", "student")}
    per_seed = [r["pgr"] for r in runs if r["pgr"] is not None]
    headline = pgr(means)
    half = (
        t95_half_width(statistics.stdev(per_seed) / len(per_seed) ** 0.5, len(per_seed))
        if len(per_seed) > 1
        else None
    )
    interval = (
        f"[{headline - half:.2f}, {headline + half:.2f}]"
        if headline is not None and half is not None
        else ""
    )
    limit = limit_pgr(world)
    imitation = [r["imitation"] for r in runs if r["imitation"] is not None]
    cells = [
        *(f"{getattr(world, k):g}" for k in KNOBS),
        *(f"{means[k]:.3f}" for k in ("weak", "ceiling", "student")),
        f"**{headline:.2f}**" if headline is not None else "(no gap)",
        interval,
        f"{limit:.2f}" if limit is not None else "",
        f"{statistics.fmean(imitation):.2f}" if imitation else "",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = Sandbox()
    for knob in KNOBS:
        parser.add_argument(f"--{knob}", type=floats, default=[getattr(defaults, knob)])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", help="write the table here as well")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = [
        row(Sandbox(**dict(zip(KNOBS, values, strict=True))), args.seeds)
        for values in itertools.product(*(getattr(args, k) for k in KNOBS))
    ]
    header = (
        "| a | b | eps | q | flip | sigma | weak | ceiling | student | **PGR of the means** | 95% t interval over "
        f"{args.seeds} seeds | limit, sigma -> 0 | imitation |"
    )
    text = "\n".join(
        [
            f"Written by `python bench/sandbox.py` at commit `{commit(12)}`, {time.strftime('%Y-%m-%d')}; "
            f"{defaults.dims} feature directions, {defaults.n_train} training and {defaults.n_test} test items per "
            f"seed; numpy {np.__version__}, Python {platform.python_version()}; "
            f"{time.perf_counter() - start:.1f} s.",
            "",
            header,
            "|" + "---|" * header.count(" | ") + "---|",
            *rows,
        ]
    )
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
