"""Tasks whose source items span several rows (one row per candidate answer): MC-TACO, MultiRC."""

from __future__ import annotations

TASKS: dict = {}
