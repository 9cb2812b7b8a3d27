"""Resumable training state on disk: safetensors for every tensor, JSON for the rest (no pickle).

A state lives in `<dir>/step<N>/` (tensors.safetensors + state.json); `<dir>/latest` names the newest complete one
and is replaced atomically, so a job killed while saving leaves the previous state usable.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from w2s.io import atomic_path


def flatten(obj, tensors: dict, prefix: str = "t"):
    """Replace every tensor in a nested dict/list structure by a reference into `tensors`."""
    if isinstance(obj, torch.Tensor):
        key = f"{prefix}{len(tensors)}"
        tensors[key] = obj.detach().cpu().contiguous()
        return {"__tensor__": key}
    if isinstance(obj, dict):
        # JSON keys are strings; remember which were ints (optimizer state is keyed by parameter index)
        return {"__dict__": [[k, flatten(v, tensors, prefix)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [flatten(v, tensors, prefix) for v in obj]
    return obj


def unflatten(obj, tensors: dict):
    if isinstance(obj, dict) and "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: unflatten(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [unflatten(v, tensors) for v in obj]
    return obj


def save_state(directory: str | Path, step: int, state: dict) -> None:
    directory = Path(directory)
    tensors: dict[str, torch.Tensor] = {}
    structure = flatten(state, tensors)
    shutil.rmtree(directory / f"step{step}", ignore_errors=True)  # a leftover of a run killed after this step
    with atomic_path(directory / f"step{step}") as tmp:
        tmp.mkdir()
        save_file(tensors, tmp / "tensors.safetensors")
        (tmp / "state.json").write_text(json.dumps(structure))
    with atomic_path(directory / "latest") as tmp:
        tmp.write_text(f"step{step}\n")
    for old in directory.glob("step*"):
        if old.name != f"step{step}":
            shutil.rmtree(old, ignore_errors=True)


def load_state(directory: str | Path) -> dict | None:
    """The newest complete state in `directory`, or None."""
    latest = Path(directory) / "latest"
    if not latest.exists():
        return None
    folder = Path(directory) / latest.read_text().strip()
    tensors = load_file(folder / "tensors.safetensors")
    return unflatten(json.loads((folder / "state.json").read_text()), tensors)
