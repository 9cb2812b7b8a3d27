"""The Hugging Face tasks by family, merged into one registry: kind -> HFTask."""

from __future__ import annotations

from w2s.data.tasks import (
    classification,
    comparisons,
    ethics,
    multi_row,
    multiple_choice,
    reference,
)
from w2s.data.tasks.base import HFTask

FAMILIES = (reference, multiple_choice, classification, ethics, multi_row, comparisons)


def merged() -> dict[str, HFTask]:
    tasks: dict[str, HFTask] = {}
    for family in FAMILIES:
        clash = set(tasks) & set(family.TASKS)
        assert not clash, f"task kinds declared twice: {clash}"
        tasks.update(family.TASKS)
    return tasks


HF_TASKS = merged()
