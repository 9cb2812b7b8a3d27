"""A mixed grid of the paper's NLP tasks, read from fixtures in their hub schemas through `data_files`, run end to end
by Snakemake with tiny built models: every task gets its splits (items kept whole), weak labels, students and a row
in the summary, and the median over tasks."""

from __future__ import annotations

import polars as pl
import pytest
from snakemake_helpers import LOCAL_ENV, snakemake, tiny_config, write_config
from task_helpers import FIXTURES, raw_rows

pytestmark = pytest.mark.workflow

# One task of each family: multiple choice with passages as items, a classification task, a pair task without a
# label column, and a task of several candidate rows per passage.
KINDS = ("quail", "glue_cola", "ethics_utilitarianism", "superglue_multirc")
ITEM = {"quail": "context_id", "superglue_multirc": "paragraph"}
SIZES = {"n_weak_train": 6, "n_strong_train": 6, "n_test": 6}


def test_a_grid_of_nlp_tasks_runs_end_to_end(tmp_path):
    config = tiny_config()
    config["datasets"] = {
        kind: {"kind": kind, "options": {"data_files": str(FIXTURES / f"{kind}.jsonl")}, **SIZES}
        for kind in KINDS
    }
    config["losses"] = {"xent": {"type": "xent"}}
    write_config(tmp_path, config)
    # `datasets` caches what it builds from the fixtures: in the test's folder, not the user's cache
    snakemake(
        tmp_path, "--cores", "2", env={**LOCAL_ENV, "HF_DATASETS_CACHE": str(tmp_path / "hf_cache")}
    )

    for kind in KINDS:
        data = tmp_path / f"results/data/{kind}/seed0"
        splits = {
            s: pl.read_parquet(data / f"{s}.parquet")
            for s in ("weak_train", "strong_train", "test")
        }
        assert all(frame.height == 6 and frame["label"].sum() == 3 for frame in splits.values())
        if kind in ITEM:  # no passage in two splits
            rows = raw_rows(kind)
            items = [
                {rows[int(i.split(":")[1])][ITEM[kind]] for i in frame["id"]}
                for frame in splits.values()
            ]
            assert not (items[0] & items[1] or items[0] & items[2] or items[1] & items[2])
        labels = pl.read_parquet(tmp_path / f"results/labels/{kind}/seed0/weakling.parquet")
        assert labels["id"].to_list() == splits["strong_train"]["id"].to_list()
    quail_groups = set(pl.read_parquet(tmp_path / "results/data/quail/seed0/test.parquet")["group"])
    assert quail_groups <= {row["question_type"] for row in raw_rows("quail")}

    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert sorted(runs["dataset"]) == sorted(KINDS)
    overall = pl.read_parquet(tmp_path / "results/summary/overall.parquet")
    defined = (
        pl.read_parquet(tmp_path / "results/summary/aggregate.parquet")["pgr_mean"]
        .is_not_null()
        .sum()
    )
    assert overall.select("n_datasets", "n_datasets_pgr_undefined").row(0) == (
        defined,
        len(KINDS) - defined,
    )
    assert (tmp_path / "results/plots/pgr_by_task/xent.png").stat().st_size > 1000
