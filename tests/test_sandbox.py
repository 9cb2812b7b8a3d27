"""The feature sandbox (w2s/analysis/sandbox.py, bench/sandbox.py): its runs reach the sigma -> 0 limit worked out by
hand, each knob's bad value is refused by name, and the grid's table holds every combination."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest
from snakemake_helpers import REPO

from w2s.analysis.sandbox import Sandbox, limit_pgr, pgr, run
from w2s.errors import W2SError


def test_the_limit_worked_out_by_hand():
    # no flips: the student keeps the heuristic's errors (q < 1/2) and loses what the supervisor knew, or fixes all
    assert limit_pgr(Sandbox(q=0.1)) == pytest.approx(-0.1 / 0.9)
    assert limit_pgr(Sandbox(q=0.8)) == 1.0
    # flips of 20%: weak = 0.7 * 0.8 + 0.3 * (0.1 * 0.8 + 0.9 * 0.2) = 0.638; the student is right on the 70% where
    # heuristic and truth agree (their labels are 80% the truth) and wrong on the rest (26% the truth)
    assert limit_pgr(Sandbox(q=0.1, flip=0.2)) == pytest.approx((0.7 - 0.638) / (1 - 0.638))
    # a heuristic the features do not show: the student sees one kind of item, labelled mostly right
    assert limit_pgr(Sandbox(q=0.1, b=0)) == 1.0
    assert limit_pgr(Sandbox(a=0)) is None and limit_pgr(Sandbox(q=0.5)) is None


@pytest.mark.parametrize("q, flip", [(0.1, 0.0), (0.3, 0.0), (0.8, 0.0), (0.1, 0.2), (0.8, 0.2)])
def test_with_little_noise_a_run_reaches_the_limit(q, flip):
    world = Sandbox(q=q, flip=flip, sigma=0.05)
    runs = [run(world, seed) for seed in range(3)]
    means = {k: statistics.fmean(r[k] for r in runs) for k in ("weak", "ceiling", "student")}
    assert means["ceiling"] > 0.99
    assert pgr(means) == pytest.approx(limit_pgr(world), abs=0.05)
    # without flips a student below the step imitates every heuristic error of its supervisor
    if q < 0.5 and flip == 0:
        assert min(r["imitation"] for r in runs) > 0.97


def test_a_run_is_its_seeds():
    world = Sandbox(sigma=1.0)
    assert run(world, 3) == run(world, 3)
    assert run(world, 3) != run(world, 4)


@pytest.mark.parametrize(
    "knobs, message",
    [
        ({"q": 1.5}, "q must be in"),
        ({"flip": -0.1}, "flip must be in"),
        ({"eps": 0}, "eps 0 leaves no gap"),
        ({"q": 1}, "q 1 leaves no gap"),
        ({"sigma": -1}, "sigma must be >= 0"),
    ],
)
def test_a_bad_knob_is_refused_by_name(knobs, message):
    with pytest.raises(W2SError, match=message):
        Sandbox(**knobs)


def test_the_grid_writes_one_row_per_combination(tmp_path):
    out = tmp_path / "sandbox.md"
    result = subprocess.run(
        [sys.executable, "bench/sandbox.py", "--q", "0.1,0.9", "--flip", "0,0.2", "--seeds", "2"]
        + ["--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = [line for line in out.read_text().splitlines() if line.startswith("| 1 | 1 | 0.3 |")]
    assert len(rows) == 4
    assert "q | flip | sigma" in out.read_text() and "over 2 seeds" in out.read_text()
    # the limit column of q 0.1 without flips
    assert rows[0].split(" | ")[-2] == "-0.11"
