"""bench/regenerate.py: the published tables it knows, and its refusals (one commit per regeneration)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import regenerate  # noqa: E402  (bench/ scripts import their siblings as modules)

REPO = Path(__file__).resolve().parents[1]


def test_every_table_names_a_shipped_config_a_file_of_its_own_and_five_seeds():
    for table in regenerate.TABLES:
        assert (REPO / table.config).is_file(), table.name
        assert len(table.seeds) >= 5, table.name  # error bars over at least 5 pretraining seeds
    assert len({t.name for t in regenerate.TABLES}) == len(regenerate.TABLES)
    assert len({t.out for t in regenerate.TABLES}) == len(regenerate.TABLES)


@pytest.mark.parametrize(
    "begun_at, here, refusal",
    [(None, "abc123-dirty", "uncommitted changes"), ("abc123", "def456", "made at commit abc123")],
)
def test_runs_of_one_root_come_from_one_clean_commit(
    tmp_path, monkeypatch, begun_at, here, refusal
):
    if begun_at:
        (tmp_path / "commit").write_text(begun_at + "\n")
    monkeypatch.setattr(regenerate, "commit", lambda: here)
    monkeypatch.setattr(sys, "argv", ["regenerate.py", "--root", str(tmp_path)])
    with pytest.raises(SystemExit, match=refusal):
        regenerate.main()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["commit"] if begun_at else [])


def test_the_list_counts_the_seeds_whose_run_finished(tmp_path):
    table = regenerate.TABLES[0]
    for seed, wall in [(0, "100.0"), (1, "50.5")]:
        (tmp_path / table.name / f"pretrain_seed{seed}").mkdir(parents=True)
        (tmp_path / table.name / f"pretrain_seed{seed}" / "wall_s").write_text(wall)
    (
        tmp_path / table.name / "pretrain_seed2"
    ).mkdir()  # begun, not finished: run again from the start
    row = next(
        line
        for line in regenerate.manifest(tmp_path, "abc").splitlines()
        if line.startswith(f"| {table.name} ")
    )
    assert f"| 2 of {len(table.seeds)} | 150 |" in row
