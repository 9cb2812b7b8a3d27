"""Telling a hub id from a local model directory, without importing torch (the Snakefile checks paths at start)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from w2s.errors import W2SError
from w2s.hub import local_copy, looks_like_local_path, model_ref
from w2s.version import BASE_FILE, checkpoint_parameters


def check_model_path(name: str, key: str = "model path") -> None:
    """A local model directory must be one (a hub id is checked where a job loads it: see local_model_dir)."""
    if not looks_like_local_path(name):
        return
    path = Path(name).expanduser()
    if not path.is_dir():
        raise W2SError(
            f"{key}: {name!r} is not a directory (expected a Hugging Face model directory or a hub id)"
        )
    if not (path / "config.json").is_file():
        raise W2SError(
            f"{key}: {name!r} has no config.json, so it is not a Hugging Face model directory (save one "
            "with save_pretrained, with its tokenizer)"
        )
    try:
        json.loads((path / "config.json").read_text())
    except (
        ValueError,
        OSError,
    ) as exc:  # every loader (model, tokenizer) reads it, each failing in its own words
        raise W2SError(
            f"{key}: {name!r} has a config.json that is not valid JSON ({exc})"
        ) from None


HASHED_BYTES = (
    64 << 20
)  # files up to this size are hashed whole; larger ones by their size, first and last MiB
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
    adapted = (
        checkpoint_parameters(local_model_dir(json.loads(base.read_text())["source"]))
        if base.exists()
        else 0
    )
    return adapted + checkpoint_parameters(checkpoint)


def local_model_dir(name: str) -> Path:
    """The local directory a model's files are in: a local path as it is, a hub id (`<id>@<revision>` for another
    revision than main) as its snapshot in the Hugging Face cache, downloaded first unless the hub is offline
    (w2s.hub)."""
    if looks_like_local_path(name):
        return Path(name).expanduser()
    return local_copy(model_ref(name))
