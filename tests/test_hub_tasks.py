"""Every task loads by hub id, as a user's run loads it: through the real `datasets` and `huggingface_hub` client
code, from a local hub whose repositories are laid out as the real hub lays them out (tests/helpers/hub_layouts.py)."""

from __future__ import annotations

import pytest
from hub_layouts import LAYOUTS
from task_helpers import load, raw_rows

from w2s.data.hf_tasks import HF_TASKS, HFSource
from w2s.data.splits import row_rng
from w2s.errors import W2SError

pytestmark = pytest.mark.usefixtures("private_datasets_cache", "hub_tasks")

SCRIPT_ON_MAIN = sorted(task for task, layout in LAYOUTS.items() if layout.kind == "script")


def test_every_task_has_a_hub_layout():
    assert set(LAYOUTS) == set(HF_TASKS) and len(HF_TASKS) == 26


@pytest.mark.parametrize("task", sorted(HF_TASKS))
def test_task_loads_by_hub_id_with_its_own_rows_only(task):
    source = HFSource(task, {})
    rows = raw_rows(task)
    assert len(source) == len(rows) - sum(source.dropped.values())
    from_files = load(
        task
    )  # the same rows read from the fixture file: the same examples, row by row
    for index in range(len(rows)):
        assert source.example(index, row_rng(3, index)) == from_files.example(
            index, row_rng(3, index)
        )
    assert source.items() == from_files.items()


def test_the_six_script_only_repositories_are_the_known_ones():
    assert SCRIPT_ON_MAIN == sorted(
        [
            "cosmos_qa",
            "dream",
            "ethics_deontology",
            "ethics_justice",
            "ethics_utilitarianism",
            "ethics_virtue",
            "hellaswag",
            "mc_taco",
            "piqa",
        ]
    )
    for task in SCRIPT_ON_MAIN:
        assert HF_TASKS[task].revision == "refs/convert/parquet", task


@pytest.fixture
def empty_datasets_cache(tmp_path, monkeypatch):
    """`datasets` answers a failed hub load from its cache where it can: these tests must see the hub's answer."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets_cache")


@pytest.mark.usefixtures("empty_datasets_cache")
@pytest.mark.parametrize("task", ["cosmos_qa", "ethics_justice"])
def test_main_branch_of_a_script_repository_is_refused_with_the_task_named(task):
    with pytest.raises(
        W2SError,
        match=rf"dataset {task}: could not load .* at revision main .* it holds a loading "
        rf"script \({task.split('_')[0]}(_qa)?\.py\).*refs/convert/parquet",
    ):
        HFSource(task, {"revision": "main"})


@pytest.mark.usefixtures("empty_datasets_cache")
def test_a_subset_passed_as_config_name_to_the_export_fails_as_the_hub_says():
    with pytest.raises(
        W2SError, match="BuilderConfig 'justice' not found. Available: \\['default'\\]"
    ):
        HFSource("ethics_justice", {"subset": "justice"})


def test_options_choose_another_subset_folder_of_the_export():
    source = HFSource(
        "ethics_justice", {"data_dir": "deontology"}
    )  # the justice formatter reads only `scenario`
    excuses = [row["excuse"] for row in raw_rows("ethics_deontology")]
    assert [source.rows[i]["excuse"] for i in range(len(source))] == excuses


def test_the_hub_served_the_export_branch_for_ethics(hub_tasks):
    HFSource("ethics_virtue", {})
    resolved = [
        path for method, path in hub_tasks.requests if "/datasets/hendrycks/ethics/resolve/" in path
    ]
    assert any(path.endswith("/virtue/train/0000.parquet") for path in resolved)
    assert not any(path.endswith(".csv") for path in resolved)
