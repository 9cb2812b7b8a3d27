"""Counted model shapes kept on disk, so that a process reads a shape another process counted instead of counting it
again: counting builds the model on the meta device, which imports torch, transformers and the model's code (about
4 s), and every Snakemake start on a grid with GPU jobs (each cluster job's own too) and every `w2s plan` needs the
shapes of its GPU models. A record is filed under a digest of everything its count is made from (the model's entries,
its world's where it pretrains on one, the config.json a hub or local model is read from, the head's outputs, and the
versions of w2s's code, torch, transformers and peft), so a change to any of them counts again.

The folder is W2S_CACHE, by default w2s/ in the user's cache ($XDG_CACHE_HOME, or ~/.cache). A record that cannot
be read is counted again, and one that cannot be written is not kept: the store only saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

from w2s.hub import cache_dir as hub_cache_dir
from w2s.hub import looks_like_local_path, split_revision
from w2s.io import atomic_path
from w2s.pipeline.rule_params import model_source
from w2s.version import code_version

LIBRARIES = ("torch", "transformers", "peft")


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Read once per process: a plan asks for a shape per job (reading a package's metadata takes milliseconds)."""
    return {library: version(library) for library in LIBRARIES}


def store_dir() -> Path:
    configured = os.environ.get("W2S_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "w2s"


def source_config_text(config: dict, model: str) -> str | None:
    """The config.json a hub or local model's shape is counted from, as this machine has it (for a hub id, its
    revision's snapshot in the Hugging Face cache); None where it has none."""
    from huggingface_hub import try_to_load_from_cache

    name, revision = split_revision(model_source(config, model))
    if looks_like_local_path(name):
        path = Path(name).expanduser() / "config.json"
    else:
        found = try_to_load_from_cache(
            name, "config.json", cache_dir=hub_cache_dir(), revision=revision or "main"
        )
        path = Path(found) if isinstance(found, str) else None
    return path.read_text() if path is not None and path.is_file() else None


def shape_digest(config: dict, model: str, outputs: int) -> str | None:
    """The digest of what the model's count is made from; None where that cannot be told without counting: a model
    whose code is its hub repository's own (trust_remote_code), or a hub or local model whose config.json is not on
    this machine."""
    models = config["models"]
    entry = models[model]
    own = models[entry["backbone"]] if "backbone" in entry else entry
    if entry["trust_remote_code"]:
        return None
    inputs = {
        "entry": entry,
        "own": own,
        "outputs": outputs,
        "w2s": code_version(),
        **library_versions(),
    }
    if "pretrain" in own:
        inputs["world"] = config["worlds"][own["pretrain"]["world"]]
    elif "build" not in own:
        inputs["config.json"] = source_config_text(config, model)
        if inputs["config.json"] is None:
            return None
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def record_path(digest: str) -> Path:
    return store_dir() / "shapes" / f"{digest}.json"


def read_record(digest: str) -> dict | None:
    try:
        record = json.loads(record_path(digest).read_text())
    except (OSError, ValueError, RuntimeError):  # RuntimeError: no home folder to find the store in
        return None
    return record if isinstance(record, dict) else None


def write_record(digest: str, record: dict) -> None:
    """Whole or not at all: many cluster jobs may write the same record at once."""
    try:
        with atomic_path(record_path(digest)) as tmp:
            tmp.write_text(json.dumps(record))
    except (OSError, RuntimeError):
        return  # not kept: the next process counts again
