"""Multiple-choice tasks: each item becomes one binary example (question + one candidate answer)."""

from __future__ import annotations

TASKS: dict = {}
