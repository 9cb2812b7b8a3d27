"""Loading Hugging Face tasks from fixtures in each dataset's own schema (tests/fixtures/<kind>.jsonl), through the
real `datasets.load_dataset` path. A module that uses them sets
`pytestmark = pytest.mark.usefixtures("private_datasets_cache")` (in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from w2s.data.hf_tasks import HFSource
from w2s.data.splits import row_rng

FIXTURES = Path(__file__).parents[1] / "fixtures"
SEEDS = range(8)


# Tasks read from one hub repository share one fixture: the local hub holds the repository once.
SHARED_FIXTURES = {"anthropic_hh_comparisons": "anthropic_hh"}

_loaded: dict[tuple, HFSource] = {}


def fixture(task: str) -> Path:
    return FIXTURES / f"{SHARED_FIXTURES.get(task, task)}.jsonl"


def load(task: str, **options) -> HFSource:
    """The task's fixture, loaded once per set of options."""
    key = (task, tuple(sorted(options.items())))
    if key not in _loaded:
        _loaded[key] = HFSource(task, {"data_files": str(fixture(task)), **options})
    return _loaded[key]


def raw_rows(task: str) -> list[dict]:
    return [json.loads(line) for line in fixture(task).read_text().splitlines()]


def examples(source: HFSource, seed: int):
    """(index, row, text, label) for every row of a source, formatted with the seed."""
    for index in range(len(source)):
        yield index, source.rows[index], *source.example(index, row_rng(seed, index))


def first_with_label(source: HFSource, index: int, label: int) -> str:
    """Row `index` formatted with the first seed that gives it `label`."""
    for seed in range(100):
        text, got = source.example(index, row_rng(seed, index))
        if got == label:
            return text
    raise AssertionError(f"row {index} never drew label {label}")
