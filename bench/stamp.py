"""The commit a benchmark ran on, for its output: `git describe` of this checkout, marked -dirty where tracked files
differ from it. The benchmarks import it as a sibling module (`python bench/<name>.py` puts bench/ on the path)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def commit(abbrev: int | None = None) -> str:
    command = [
        "git",
        "-C",
        str(REPO),
        "describe",
        "--always",
        "--dirty",
        *([f"--abbrev={abbrev}"] if abbrev else []),
    ]
    return subprocess.run(command, capture_output=True, text=True).stdout.strip()
