"""Warm start for local jobs: a worker process that has imported torch and transformers once forks a copy of
itself for each job, so that a small job spends its time on work rather than on ~3.5 s of imports.

The rule's script (the client) sends its job over a Unix socket: the function to call (`module:name`), its keyword
arguments as JSON, the log path, the working directory and the environment, together with its stdin, stdout and
stderr; then it waits and exits with the job's status. Each job runs in a fresh fork of the warm worker, never in
the worker itself, so nothing passes from one job to the next; it dies when its client dies (a killed Snakemake
kills its jobs' processes, and with them the work they handed over).

Only local runs use it: a job inside a Slurm allocation (SLURM_JOB_ID set) or with W2S_WARM_START=0 runs in its
own process. The first job that finds no worker runs itself and starts one for the jobs after it; the worker exits
after IDLE_SECONDS without a job. Its socket (in W2S_WARM_DIR, by default a folder of this user's in the temporary
directory) is keyed by the Python, the package's code version, the installed torch and transformers, the
environment their imports read and the resource limits, so edited code, another venv or a job under other limits
never runs in it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from importlib import metadata
from pathlib import Path

from w2s.process.entry_points import entry_point, script_entry_point
from w2s.process.job import logged, stop_when_orphaned
from w2s.version import code_version

IDLE_SECONDS = 120
# What every model job imports; the modelling code of GPT-2 (the built and pretrained models) pulls in the bulk of
# transformers' shared machinery, which other architectures reuse.
PRELOAD = (
    "torch",
    "transformers",
    "transformers.models.gpt2.modeling_gpt2",
    "w2s.jobs.run",
    "w2s.jobs.finetune",
    "w2s.training.pretrain",
    "w2s.models.build",
    "w2s.data.world",
)
ENV_PREFIXES = (
    "PYTHON",
    "ATEN_",
    "OMP_",
    "MKL_",
    "CUDA_",
    "TORCH",
    "PYTORCH_",
    "TRANSFORMERS_",
    "HF_",
    "NCCL_",
)
HEADER = struct.Struct("!Q")
STATUS = struct.Struct("!i")
ACCEPTED = b"A"


def enabled() -> bool:
    return os.environ.get("W2S_WARM_START", "1") != "0" and "SLURM_JOB_ID" not in os.environ


def resource_limits() -> dict[str, tuple[int, int]]:
    """This process's limits (ulimit): a fork of the worker has the worker's, so a job run under other limits (a
    memory or file size cap) needs a worker started under those."""
    return {
        name: resource.getrlimit(getattr(resource, name))
        for name in dir(resource)
        if name.startswith("RLIMIT_")
    }


def socket_path() -> Path:
    """Where the worker for this Python, code, environment and resource limits listens."""
    versions = {name: metadata.version(name) for name in ("torch", "transformers")}
    env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIXES)}
    key = json.dumps(
        [sys.executable, code_version(), versions, env, resource_limits()], sort_keys=True
    )
    folder = Path(
        os.environ.get("W2S_WARM_DIR") or Path(tempfile.gettempdir()) / f"w2s-warm-{os.getuid()}"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.sock"


def run_here(target: str, log_path: str, kwargs: dict, note: str = "") -> int:
    """Run `module:function(**kwargs)` with its output (after `note`) in the log; return the exit status."""
    try:
        with logged(log_path):
            if note:
                print(note, flush=True)
            entry_point(target)(**kwargs)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # logged() wrote the traceback to the log and pointed the console at it
        return 1
    return 0


def hand_over(path: Path, target: str, log_path: str, kwargs: dict) -> int | None:
    """Run the job in the worker at `path`; None if there is none or it did not take the job."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(60)  # for the hand-over; a worker that does not answer in time is not used
    try:
        conn.connect(str(path))
        request = json.dumps(
            {
                "target": target,
                "log": log_path,
                "kwargs": kwargs,
                "cwd": os.getcwd(),
                "env": dict(os.environ),
            }
        ).encode()
        socket.send_fds(conn, [HEADER.pack(len(request))], [0, 1, 2])
        conn.sendall(request)
        if conn.recv(1) != ACCEPTED:
            return None
    except OSError:
        return None
    conn.settimeout(None)
    status = conn.recv(
        STATUS.size
    )  # the connection stays open while the job runs: closing it kills the job
    if len(status) != STATUS.size:
        print(f"w2s: the warm worker's process for this job died; see {log_path}", file=sys.stderr)
        return 1
    return STATUS.unpack(status)[0]


def run_job(target: str, log_path: str, **kwargs) -> None:
    """A rule's job: `target` (`module:function`) called with `kwargs` (JSON values), output in `log_path`; exits
    the script with the job's status. In a fork of the warm worker when there is one (see the module docstring)."""
    target = script_entry_point(target)
    stop_when_orphaned()  # the warm job dies with this process, so it stops with Snakemake too
    status = None
    if enabled():
        path = socket_path()
        status = hand_over(path, target, log_path, kwargs)
        if status is None:
            subprocess.Popen(
                [sys.executable, "-m", "w2s.process.warm", str(path)],
                cwd="/",
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
    if status is None:
        status = run_here(target, log_path, kwargs)
    if status:
        raise SystemExit(status)


def receive(conn: socket.socket) -> dict:
    """A job's request, with the client's stdin/stdout/stderr put in place of this process's."""
    header, fds, _, _ = socket.recv_fds(conn, HEADER.size, 3)
    (length,) = HEADER.unpack(header)
    data = b""
    while len(data) < length:
        chunk = conn.recv(length - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    for target_fd, fd in enumerate(fds):
        os.dup2(fd, target_fd)
        os.close(fd)
    return json.loads(data)


def die_with_client(conn: socket.socket) -> None:
    """Block until the client's end closes (it exits only after the job reports, or when killed); then die."""
    try:
        conn.recv(1)
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def run_forked_job(conn: socket.socket) -> int:
    request = receive(conn)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    conn.sendall(ACCEPTED)
    threading.Thread(target=die_with_client, args=(conn,), daemon=True).start()
    note = f"warm start: this job runs in a fork of warm worker {os.getppid()}"
    status = run_here(request["target"], request["log"], request["kwargs"], note)
    conn.sendall(STATUS.pack(status))
    return status


def serve(path: Path) -> None:
    """The warm worker: import once, then fork a process per job until idle; one worker per socket path."""
    lock = open(path.with_suffix(".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another worker is starting or running for this path
    for module in PRELOAD:
        importlib.import_module(module)
    path.unlink(missing_ok=True)  # left by a worker that was killed
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(64)
    server.settimeout(IDLE_SECONDS)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the jobs' processes
    try:
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                break
            if os.fork() == 0:
                server.close()
                lock.close()
                signal.signal(
                    signal.SIGCHLD, signal.SIG_DFL
                )  # the job waits for its own subprocesses
                conn.settimeout(None)
                try:
                    status = run_forked_job(conn)
                except BaseException:
                    traceback.print_exc()
                    status = 1
                os._exit(status)
            conn.close()
    finally:
        # New clients find no socket and run themselves; ones waiting in the backlog get no ACCEPTED and do too.
        path.unlink(missing_ok=True)
        server.close()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
