"""Each job of a local run its own GPUs, on a machine with several.

Slurm gives a job the GPUs it asked for (CUDA_VISIBLE_DEVICES). A local run (`snakemake --cores N --resources
gpu=G`) starts up to G GPU jobs at once and gives them none, so every one would compute on GPU 0. Here a job takes
the first devices no other job holds: an exclusive lock (flock) on one file per device in a folder of this user's,
held while its process lives and released by the kernel however the process ends (a kill -9 included).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path

from w2s.errors import W2SError

# The open lock files of the devices this process took: closing one would release its device.
_HELD: list = []


def lock_dir() -> Path:
    return (
        Path(os.environ.get("W2S_GPU_LOCK_DIR") or tempfile.gettempdir())
        / f"w2s-gpus-{os.getuid()}"
    )


def installed_gpus() -> int:
    """The machine's NVIDIA GPUs, counted without starting CUDA (which fixes the devices a process sees)."""
    root = Path("/proc/driver/nvidia/gpus")
    return len(list(root.iterdir())) if root.is_dir() else 0


def try_locks(count: int, installed: int, folder: Path) -> list[int]:
    """Lock the first `count` free devices and keep them; none at all where fewer are free."""
    taken = []
    for index in range(installed):
        handle = open(folder / f"gpu{index}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        taken.append((index, handle))
        if len(taken) == count:
            _HELD.extend(handle for _, handle in taken)
            return [index for index, _ in taken]
    for _, handle in taken:
        handle.close()
    return []


def claim_gpus(count: int, installed: int | None = None, poll_seconds: float = 5.0) -> list[int]:
    """Where no scheduler chose this process's GPUs (CUDA_VISIBLE_DEVICES unset) and the machine has more than
    one: take `count` free devices, waiting while fewer are free, and show only those to CUDA (and to processes this
    one starts). Returns the devices taken; none where there was nothing to choose. Call it before CUDA starts."""
    installed = installed_gpus() if installed is None else installed
    if "CUDA_VISIBLE_DEVICES" in os.environ or installed <= 1:
        return []
    if count > installed:
        raise W2SError(f"this job needs {count} GPUs and the machine has {installed}")
    folder = lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    waiting = False
    while not (taken := try_locks(count, installed, folder)):
        if not waiting:
            print(
                f"waiting for {count} of the {installed} GPUs: other jobs hold them (locks in {folder}); "
                "give a local run --resources gpu=N to start no more GPU jobs than there are GPUs",
                flush=True,
            )
            waiting = True
        time.sleep(poll_seconds)
    os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, taken))
    print(
        f"GPUs {os.environ['CUDA_VISIBLE_DEVICES']} of {installed} taken for this job", flush=True
    )
    return taken
