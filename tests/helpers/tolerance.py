"""Comparing predictions that two different computations made of the same examples.

Bit equality holds only where both ran the same sequence of kernels on the same shapes (a rerun, a resume that
replays the same batches). Predictions made under another batch composition (shards, processes, engines) pad to
other lengths and sum in another order, and which last bits that moves depends on the CPU's kernel path (AVX2,
AVX-512, or ATEN_CPU_CAPABILITY=default): there the soft labels agree to a tolerance, and hard labels must agree
only where a soft label is farther than that tolerance from the 0.5 threshold.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# float32 rounding of a p(1) that went through other reductions: measured differences are ~1e-8.
ROUNDING = 1e-6


def assert_predictions_close(
    got: pl.DataFrame, expected: pl.DataFrame, atol: float = ROUNDING
) -> int:
    """Same rows in the same order, soft labels within `atol`, hard labels and correctness equal wherever they are
    decided beyond the tolerance. Returns how many rows are undecided (a soft label within `atol` of 0.5), the
    most by which the two tables' correct counts may differ."""
    assert got.columns == expected.columns
    exact = [c for c in expected.columns if c not in ("soft_label", "hard_label", "correct")]
    assert got.select(exact).equals(expected.select(exact))
    difference = (got["soft_label"] - expected["soft_label"]).abs().max()
    print(
        f"max |soft_label difference| = {difference:.2e} over {len(got)} rows (tolerance {atol:g})"
    )
    assert difference <= atol, difference
    decided = ((expected["soft_label"] - 0.5).abs() > atol).to_numpy()
    for column in ("hard_label", "correct"):
        assert got[column].filter(decided).equals(expected[column].filter(decided)), column
    return int((~decided).sum())


def auroc_slack(table: pl.DataFrame, atol: float = ROUNDING) -> float:
    """How far AUROC may move when every soft label moves by up to `atol`: the share of (positive, negative) pairs
    whose soft labels are close enough to swap order."""
    p, y = table["soft_label"].to_numpy(), table["label"].to_numpy()
    close = np.abs(p[y == 1][:, None] - p[y == 0][None, :]) <= 2 * atol
    return float(close.mean())
