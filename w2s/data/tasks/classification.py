"""Single-text and sentence-pair classification tasks."""

from __future__ import annotations

TASKS: dict = {}
