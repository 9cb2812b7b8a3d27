"""Telling a hub id from a local model directory, without importing torch (the Snakefile checks paths at start)."""

from __future__ import annotations

import os
from pathlib import Path

from w2s.errors import W2SError


def looks_like_local_path(name: str) -> bool:
    """Hub ids are 'name' or 'org/name'; anything else (./x, /x, ~/x, a/b/c) is meant as a local directory."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or os.path.isdir(name)


def check_model_path(name: str, key: str = "model path") -> None:
    if looks_like_local_path(name) and not Path(name).expanduser().is_dir():
        raise W2SError(f"{key}: {name!r} is not a directory (expected a Hugging Face model directory or a hub id)")
