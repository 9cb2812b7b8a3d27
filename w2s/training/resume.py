"""Resumable training state on disk: safetensors for every tensor, JSON for the rest (no pickle).

A state lives in `<dir>/step<N>/`: the run's shared part (weights, step, history: `shared.*`, written by rank 0)
and each process's own part (optimizer partition, schedule, RNG: `rank<r>.*`). `<dir>/latest` names the newest
complete state and is replaced atomically, so a job killed while saving leaves the previous state usable. With
several processes every one calls `save_state`; they meet at barriers, so `latest` moves only once all have written.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

from w2s.io import atomic_path, json_text
from w2s.training.runtime import rank_and_world, trained_names


def flatten(obj, tensors: dict, prefix: str = "t", seen: dict | None = None):
    """Replace every tensor in a nested dict/list structure by a reference into `tensors`. A tensor met again (a
    tied weight: a causal LM's output layer is its embedding) is referenced twice and stored once, as safetensors
    refuses two entries that share memory; another view of a stored tensor's memory is stored as a copy."""
    seen = {} if seen is None else seen
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu().contiguous()
        view = (tensor.storage_offset(), tuple(tensor.shape), tensor.dtype)
        memory = tensor.untyped_storage().data_ptr() if tensor.numel() else None
        if memory in seen and seen[memory][0] == view:
            return {"__tensor__": seen[memory][1]}
        key = f"{prefix}{len(tensors)}"
        if memory in seen:  # another view of stored memory
            tensor = tensor.clone()
        elif memory is not None:
            seen[memory] = (view, key)
        tensors[key] = tensor
        return {"__tensor__": key}
    if isinstance(obj, dict):
        # JSON keys are strings; remember which were ints (optimizer state is keyed by parameter index)
        return {"__dict__": [[k, flatten(v, tensors, prefix, seen)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [flatten(v, tensors, prefix, seen) for v in obj]
    return obj


def unflatten(obj, tensors: dict):
    if isinstance(obj, dict) and "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if isinstance(obj, dict) and "__dict__" in obj:
        return {k: unflatten(v, tensors) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [unflatten(v, tensors) for v in obj]
    return obj


def write_part(folder: Path, name: str, obj: dict) -> None:
    tensors: dict[str, torch.Tensor] = {}
    structure = flatten(obj, tensors)
    save_file(tensors, folder / f"{name}.safetensors")
    (folder / f"{name}.json").write_text(json_text(structure))


def read_part(folder: Path, name: str) -> dict:
    return unflatten(
        json.loads((folder / f"{name}.json").read_text()), load_file(folder / f"{name}.safetensors")
    )


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def save_state(
    directory: str | Path, step: int, shared: dict | None, own: dict, rank: int = 0
) -> None:
    """Save the state after `step`: `shared` from rank 0 (None elsewhere), `own` from every process."""
    directory = Path(directory)
    partial = directory / f"step{step}.partial"
    if rank == 0:
        shutil.rmtree(
            partial, ignore_errors=True
        )  # a leftover of a run killed while saving this step
        partial.mkdir(parents=True)
    barrier()
    write_part(partial, f"rank{rank}", own)
    if rank == 0:
        write_part(partial, "shared", shared)
    barrier()
    if rank == 0:
        shutil.rmtree(
            directory / f"step{step}", ignore_errors=True
        )  # a leftover of a run killed after this step
        os.replace(partial, directory / f"step{step}")
        with atomic_path(directory / "latest") as tmp:
            tmp.write_text(f"step{step}\n")
        for old in directory.glob("step*"):
            if old.name != f"step{step}":
                shutil.rmtree(old, ignore_errors=True)
    barrier()


class DamagedState(Exception):
    """A saved state whose files cannot be read (truncated, or not ours)."""


def load_state(directory: str | Path, rank: int = 0) -> tuple[dict, dict | None] | None:
    """The newest complete state in `directory` as (shared part, this process's part), or None; DamagedState when
    its files cannot be read. The process's part is None when the state was saved by fewer processes; the caller
    sees that from the shared part's `world`."""
    latest = Path(directory) / "latest"
    if not latest.exists():
        return None
    folder = Path(directory) / latest.read_text().strip()
    try:
        own = read_part(folder, f"rank{rank}") if (folder / f"rank{rank}.json").exists() else None
        return read_part(folder, "shared"), own
    except (
        Exception
    ) as exc:  # truncated or foreign files: safetensors, JSON and the OS raise their own types
        raise DamagedState(f"{folder} cannot be read ({type(exc).__name__}: {exc})") from None


def on_any_rank(flag: bool) -> bool:
    """Whether `flag` holds on any process (every process must call this: it is a collective)."""
    if not dist.is_initialized():
        return flag
    value = torch.tensor([int(flag)], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def load_agreed_state(directory: str | Path, rank: int = 0) -> tuple[dict, dict | None] | None:
    """`load_state` on every process, agreed: when any process finds its part damaged (a job killed while one
    rank's files were being written, a disk error on one node), every process sets the state aside together and
    starts from scratch, rather than some resuming and some not."""
    try:
        saved, problem = load_state(directory, rank), None
    except DamagedState as exc:
        saved, problem = None, str(exc)
    if not on_any_rank(problem is not None):
        return saved
    aside = set_aside(directory, rank)
    if problem or rank == 0:
        print(
            f"the resumable state {problem or 'is damaged on another process'}; set aside as {aside}, training "
            "from the start",
            flush=True,
        )
    return None


def set_aside(directory: str | Path, rank: int = 0) -> Path:
    """Move a damaged state folder out of the way (kept for a look, never resumed); returns where it went."""
    directory = Path(directory)
    aside = directory.with_name(f"{directory.name}.damaged")
    barrier()
    if rank == 0:
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(directory, aside)
    barrier()
    return aside


def remove_state(directory: str | Path, rank: int = 0) -> None:
    """Delete the folder once every process is done with it."""
    barrier()
    if rank == 0:
        shutil.rmtree(directory, ignore_errors=True)
    barrier()


def rng_state() -> dict:
    """Torch's random generators (CPU and every GPU): saved in a resumable state, and replayed by the training loop
    so that a gradient pass sees the dropout masks of its threshold pass."""
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_trained(model, state: dict) -> None:
    """Restore the weights a state holds: all of them, or, where some are frozen (LoRA), exactly those that train
    (the frozen ones are the base model's, as loaded)."""
    names = trained_names(model)
    if names is None:
        model.load_state_dict(state)
    elif set(state) != names:
        raise DamagedState(
            f"a resumable state holds {len(state)} weights, not the {len(names)} this run trains"
        )
    else:
        model.load_state_dict(state, strict=False)


@dataclass
class Resumable:
    """Where a run keeps its resumable state, and what identifies the run it belongs to."""

    folder: str | Path | None
    fingerprint: str = ""

    def start(self, model, settings, total: int, make_engine: Callable):
        """The engine, step and history to start from: a saved state of this run if there is one."""
        rank, world = rank_and_world()
        saved = load_agreed_state(self.folder, rank) if self.folder else None
        # A state written by an older version may lack what identifies its run: it is never resumed, not a crash.
        shared = saved[0] if saved and isinstance(saved[0], dict) else {}
        identity = shared.get("fingerprint"), shared.get("world")
        if saved and identity != (self.fingerprint, world):
            if rank == 0:
                print(
                    f"discarding the resumable state in {self.folder}: it belongs to other inputs, settings or "
                    "process count, or to an older version of w2s",
                    flush=True,
                )
            remove_state(self.folder, rank)
            saved = None
        if not saved:
            return make_engine(model, settings, total), 0, []
        shared, own = saved
        load_trained(
            model, shared["model"]
        )  # before the engine: DeepSpeed partitions the weights it is given
        engine = make_engine(model, settings, total)
        engine.restore_weights(shared["model"])
        engine.load_state_dict(own["engine"])
        set_rng_state(own["rng"])
        print(f"resumed from step {shared['step']} of {total} ({self.folder})", flush=True)
        return engine, shared["step"], shared["history"]

    def save(self, engine, step: int, history: list[dict]) -> None:
        rank, world = rank_and_world()
        weights = (
            engine.model_state()
        )  # on rank 0; under ZeRO-3 every rank takes part in gathering them
        shared = {
            "fingerprint": self.fingerprint,
            "world": world,
            "step": step,
            "history": history,
            "model": weights,
        }
        own = {"rng": rng_state(), "engine": engine.state_dict()}
        save_state(self.folder, step, shared if rank == 0 else None, own, rank)

    def finish(self) -> None:
        if self.folder:
            remove_state(self.folder, rank_and_world()[0])
