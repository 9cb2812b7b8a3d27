"""Telling a hub id from a local model directory, without importing torch (the Snakefile checks paths at start)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from w2s.errors import W2SError
from w2s.version import BASE_FILE, checkpoint_parameters


def looks_like_local_path(name: str) -> bool:
    """Hub ids are 'name' or 'org/name'; anything else (./x, /x, ~/x, a/b/c) is meant as a local directory."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or os.path.isdir(name)


HUB = ("huggingface.co", 443)


def hub_reachable(timeout: float = 3.0) -> bool:
    import socket

    try:
        socket.create_connection(HUB, timeout=timeout).close()
        return True
    except OSError:
        return False


def check_hub_model(name: str, key: str) -> None:
    """A hub id must be in the local cache or downloadable: offline, loading one would retry for about a minute and
    end in a traceback, in every job that loads it."""
    from huggingface_hub import try_to_load_from_cache

    if try_to_load_from_cache(name, "config.json") is None and not hub_reachable():
        raise W2SError(f"{key}: {name!r} is a Hugging Face hub id that is not in the local cache, and the hub cannot "
                       "be reached from here; download it on a machine that can (huggingface-cli download "
                       f"{name}) into a shared cache or a local directory, and give that")


def check_model_path(name: str, key: str = "model path", hub: bool = False) -> None:
    """A local model directory must be one. A hub id must be cached or reachable, checked only with `hub` (where a
    job loads it), since the machine that plans a run may not be the one that runs it."""
    if not looks_like_local_path(name):
        if hub:
            check_hub_model(name, key)
        return
    path = Path(name).expanduser()
    if not path.is_dir():
        raise W2SError(f"{key}: {name!r} is not a directory (expected a Hugging Face model directory or a hub id)")
    if not (path / "config.json").is_file():
        raise W2SError(f"{key}: {name!r} has no config.json, so it is not a Hugging Face model directory (save one "
                       "with save_pretrained, with its tokenizer)")
    try:
        json.loads((path / "config.json").read_text())
    except (ValueError, OSError) as exc:  # every loader (model, tokenizer) reads it, each failing in its own words
        raise W2SError(f"{key}: {name!r} has a config.json that is not valid JSON ({exc})") from None


HASHED_BYTES = 64 << 20  # files up to this size are hashed whole; larger ones by their size, first and last MiB
SAMPLED_BYTES = 1 << 20


def source_identity(name: str) -> str:
    """What identifies the model a run starts from (or adapters were trained on): its files' names and contents
    (files over HASHED_BYTES by size and their first and last MiB, where hashing all would cost seconds), so a
    rebuilt or edited model is never mistaken for the one a saved training state belongs to. A hub id stands for
    its snapshot in the local cache; one not cached, for itself."""
    try:
        path = local_model_dir(name)
    except Exception:  # a hub id not in the local cache (huggingface_hub raises its own types)
        return name
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        size = file.stat().st_size
        digest.update(f"{file.relative_to(path).as_posix()}\0{size}\0".encode())
        with open(file, "rb") as handle:
            if size <= HASHED_BYTES:
                digest.update(handle.read())
            else:
                digest.update(handle.read(SAMPLED_BYTES))
                handle.seek(size - SAMPLED_BYTES)
                digest.update(handle.read())
    return digest.hexdigest()


def model_parameters(checkpoint: str | Path) -> int:
    """The number of parameters of a checkpoint's model: what it stores, plus for LoRA adapters the base model's
    stored tensors (its LM head included)."""
    base = Path(checkpoint) / BASE_FILE
    adapted = checkpoint_parameters(local_model_dir(json.loads(base.read_text())["source"])) if base.exists() else 0
    return adapted + checkpoint_parameters(checkpoint)


def local_model_dir(name: str) -> Path:
    """The local directory a model's files are in: the path itself, or a hub id's snapshot in the local cache."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(name, local_files_only=True))
