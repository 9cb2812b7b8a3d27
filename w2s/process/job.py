"""Running a rule's script: output to the rule's log file, user errors also on the console, in one line; a job that
stops when its Snakemake is gone, and one writer per run folder."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import socket
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from w2s.errors import W2SError


def stop_when_orphaned(interval: float = 1.0) -> None:
    """Exit once the parent process (Snakemake, or the Slurm step) is gone. A Snakemake killed with SIGKILL leaves
    its jobs running otherwise: they train on and race the rerun that redoes their work. (The kernel's parent-death
    signal is no substitute: Snakemake starts jobs from threads, and it fires when the starting thread ends.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="stop-when-orphaned", daemon=True).start()


@contextmanager
def sole_writer(folder: str | Path):
    """Hold `<folder>/.lock` while writing into the folder: a second job on the same run (a rerun racing a job that
    is still alive) fails at once, naming the holder, instead of both writing one run."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise W2SError(
                f"{folder} is being written by another process ({handle.read().strip() or 'unknown'}): "
                "wait for it to finish, or stop it, then rerun"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        yield


OUT_OF_SPACE = {
    errno.ENOSPC: "No space left on device",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EFBIG: "File too large",
}


def out_of_space(exc: BaseException) -> bool:
    """A full disk, quota or file size limit: an OSError, or a library's own error that quotes the OS's words."""
    if isinstance(exc, OSError) and exc.errno in OUT_OF_SPACE:
        return True
    return any(words in str(exc) for words in OUT_OF_SPACE.values())


@contextmanager
def logged(log_path: str):
    """Send stdout and stderr (file descriptors too, for library output) to `log_path` for the block.

    A W2SError is written to the log and to the console, then the job exits with status 1 (no traceback: the
    message says what to fix), and so is a full disk. Any other exception keeps its traceback in the log.
    """
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    console = os.dup(2)
    sys.stdout.flush(), sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        except W2SError as exc:
            print(f"error: {exc}", flush=True)
            os.write(console, f"w2s error: {exc}\n".encode())
            raise SystemExit(1) from None
        except BaseException as exc:
            traceback.print_exc()
            if out_of_space(exc):
                os.write(
                    console,
                    f"w2s error: out of disk space while writing this job's outputs ({exc}): free "
                    "space (or raise the quota or file size limit) and rerun; nothing partly written "
                    f"was kept (details in {log_path})\n".encode(),
                )
                raise SystemExit(1) from None
            os.write(console, f"w2s: job failed, see {log_path}\n".encode())
            raise
        finally:
            sys.stdout.flush(), sys.stderr.flush()
            os.dup2(saved[0], 1), os.dup2(saved[1], 2)
