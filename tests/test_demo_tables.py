"""bench/demo.py's tables on hand-made runs with known answers: the paired comparisons of losses and of methods."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from metrics_records import metrics_record

from w2s.analysis.summary import runs_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import demo  # noqa: E402  (bench/ scripts import their siblings as modules)


def pretrain_seed_runs(pretrain_seed: int, xent: float, logconf: float):
    """One pretraining seed's runs: weak 0.6, ceiling 1.0, one config seed; students at the given accuracies."""
    import polars as pl

    records = [
        metrics_record("weak", "s", 0.6),
        metrics_record("ceiling", "l", 1.0),
        metrics_record("student", "l", xent, weak="s", loss="xent"),
        metrics_record("student", "l", logconf, weak="s", loss="logconf"),
    ]
    return runs_table(records).with_columns(pl.lit(pretrain_seed).alias("pretrain_seed"))


def test_losses_are_compared_paired_by_pretraining_seed():
    """PGRs (xent, logconf) per pretraining seed: (0.25, 0.5), (0.5, 0.5), (0.75, 1.0): differences 0.25, 0, 0.25."""
    import polars as pl

    runs = pl.concat(
        [
            pretrain_seed_runs(0, 0.7, 0.8),
            pretrain_seed_runs(1, 0.8, 0.8),
            pretrain_seed_runs(2, 0.9, 1.0),
        ]
    )
    table = demo.loss_differences(runs)
    row = next(line for line in table.splitlines() if "| logconf |" in line)
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[:3] == ["s", "l", "logconf"]
    assert cells[4] == "0.25, 0.00, 0.25"
    mean, sem = 1 / 6, (((0.25 - 1 / 6) ** 2 * 2 + (1 / 6) ** 2) / 2) ** 0.5 / 3**0.5
    assert cells[5] == f"{mean:.2f} ± {sem:.2f}"
    half = 4.303 * sem  # t with 2 degrees of freedom
    assert cells[6] == f"[{mean - half:.2f}, {mean + half:.2f}]"
    assert demo.loss_differences(runs.filter(pl.col("loss") == "xent")) == ""  # nothing to compare


def test_a_chain_is_compared_with_the_plain_student_of_its_cell():
    """The same PGRs as above, the chain's in logconf's place: differences 0.25, 0, 0.25 against the direct student;
    an early stop of the same cell is compared with the same plain student, a pair of a model with itself not."""
    import polars as pl

    frames = []
    for pretrain_seed, direct, chain in ((0, 0.7, 0.8), (1, 0.8, 0.8), (2, 0.9, 1.0)):
        records = [
            metrics_record("weak", "s", 0.6),
            metrics_record("weak", "l", 0.9),
            metrics_record("ceiling", "l", 1.0),
            metrics_record("ceiling", "l", 1.0, early_stopping="oracle"),
            metrics_record("student", "l", direct, weak="s", loss="xent"),
            metrics_record("student", "l", 0.8, weak="s", loss="xent", early_stopping="oracle"),
            metrics_record("chain", "l", chain, weak="s", loss="xent", chain="s+m+l"),
            metrics_record("student", "l", 0.95, weak="l", loss="xent"),
            metrics_record("student", "l", 0.9, weak="l", loss="xent", early_stopping="oracle"),
        ]
        frames.append(
            runs_table(records).with_columns(pl.lit(pretrain_seed).alias("pretrain_seed"))
        )
    table = demo.method_differences(pl.concat(frames))
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in table.splitlines()[2:]]
    assert {tuple(row[:4]) for row in rows} == {
        ("s", "l", "xent", "chain s+m+l"),
        ("s", "l", "xent", "early stop oracle"),
    }
    chain = next(row for row in rows if row[3] == "chain s+m+l")
    assert chain[4] == "0.25, 0.00, 0.25"
    mean, sem = 1 / 6, (((0.25 - 1 / 6) ** 2 * 2 + (1 / 6) ** 2) / 2) ** 0.5 / 3**0.5
    assert chain[5:] == [
        f"{mean:.2f} ± {sem:.2f}",
        f"[{mean - 4.303 * sem:.2f}, {mean + 4.303 * sem:.2f}]",
    ]
    stop = next(row for row in rows if row[3] == "early stop oracle")
    assert stop[4] == "0.25, 0.00, -0.25"  # 0.5 each seed against 0.25, 0.5, 0.75
    plain = pl.concat(frames).filter((pl.col("chain") == "") & (pl.col("early_stopping") == "none"))
    assert demo.method_differences(plain) == ""  # nothing to compare


@pytest.mark.parametrize(("gap", "shown"), [(0.02, "(gap 0.02)"), (0.4, "0.50")])
def test_a_groups_cell_shows_its_pgr_or_its_too_small_gap(gap, shown):
    row = {
        "weak_acc_mean": 0.5,
        "ceiling_acc_mean": 0.5 + gap,
        "pgr_of_means": 0.5 if gap > 0.05 else None,
    }
    assert demo.group_cell(row) == shown


def test_the_prompting_table_puts_the_untrained_models_pgrs_beside_the_students():
    """Weak 0.6, ceiling 1.0; k-shot with true labels 0.7 and 0.8 (PGRs 0.25, 0.5), with weak labels 0.6 (0)."""
    import polars as pl

    frames = []
    for pretrain_seed, few_shot in ((0, 0.7), (1, 0.8)):
        runs = pretrain_seed_runs(pretrain_seed, 0.8, 0.9).filter(pl.col("loss") == "xent")
        frames.append(
            runs.with_columns(few_shot_acc=pl.lit(few_shot), few_shot_weak_acc=pl.lit(0.6))
        )
    table = demo.prompting(pl.concat(frames))
    row = next(line for line in table.splitlines() if "| xent |" in line)
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[4].startswith("0.50 ")  # the student: 0.8 in both seeds
    half = (
        12.706 * 0.125
    )  # the two seeds' k-shot PGRs 0.25 and 0.5: s.e.m. 0.125, t with 1 degree of freedom
    assert cells[6] == f"0.38 [{0.375 - half:.2f}, {0.375 + half:.2f}]"
    assert cells[7].startswith("0.00 ")
    assert demo.prompting(pl.concat(frames).drop("few_shot_acc", "few_shot_weak_acc")) == ""


def test_two_renderings_are_compared_on_the_rows_and_columns_both_have():
    import compare_tables

    old = "\n".join(
        [
            "# Results of `a.yaml`, pretraining seeds 0,1",
            "",
            "| weak | strong | weak | PGR (± s.e.m. over 2 pretraining seeds) |",
            "|---|---|---|---|",
            "| s | l | 0.600 | **0.25 ± 0.01** |",
            "| m | l | 0.700 | **0.40 ± 0.02** |",
        ]
    )
    same = old.replace("a.yaml", "b.yaml").replace("0,1", "0,1,2").replace("over 2", "over 3")
    lines, differing = compare_tables.compare(old, same, 0.0)
    assert differing == 0 and lines == ["headline: 6 numbers compared, 0 differ"]
    moved = same.replace("**0.40 ± 0.02**", "**0.43 ± 0.02**")
    lines, differing = compare_tables.compare(old, moved, 0.0)
    assert differing == 1 and "m / l | PGR (± s.e.m.): 0.4 -> 0.43 (0.030)" in lines[1]
    assert compare_tables.compare(old, moved, 0.05)[1] == 0
