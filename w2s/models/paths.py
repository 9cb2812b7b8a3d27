"""Telling a hub id from a local model directory, without importing torch (the Snakefile checks paths at start)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from w2s.errors import W2SError


def looks_like_local_path(name: str) -> bool:
    """Hub ids are 'name' or 'org/name'; anything else (./x, /x, ~/x, a/b/c) is meant as a local directory."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or os.path.isdir(name)


def check_model_path(name: str, key: str = "model path") -> None:
    if not looks_like_local_path(name):
        return
    path = Path(name).expanduser()
    if not path.is_dir():
        raise W2SError(f"{key}: {name!r} is not a directory (expected a Hugging Face model directory or a hub id)")
    if not (path / "config.json").is_file():
        raise W2SError(f"{key}: {name!r} has no config.json, so it is not a Hugging Face model directory (save one "
                       "with save_pretrained, with its tokenizer)")


HASHED_BYTES = 64 << 20  # files up to this size are hashed whole; larger ones by size and modification time


def source_identity(name: str) -> str:
    """What identifies the model a run starts from: a hub id by itself; a local directory by its files' names and
    contents (files over HASHED_BYTES by size and modification time, where hashing would cost seconds), so a rebuilt
    or edited model is never mistaken for the one a saved training state belongs to."""
    path = Path(name).expanduser()
    if not path.is_dir():
        return name
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(path).as_posix()}\0{stat.st_size}\0".encode())
        if stat.st_size <= HASHED_BYTES:
            digest.update(file.read_bytes())
        else:
            digest.update(str(stat.st_mtime_ns).encode())
    return digest.hexdigest()
