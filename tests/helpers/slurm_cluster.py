"""A real one-node Slurm cluster on this machine for the tests: munged, slurmctld and slurmd in a temporary folder.

Everything it needs is private (munge key and socket, ports, state, spool and logs), so it neither uses nor
disturbs a Slurm or munge already running here. Clients reach it through SLURM_CONF, in `SlurmCluster.env`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = {
    "munged": "/usr/sbin/munged",
    "slurmctld": "/usr/sbin/slurmctld",
    "slurmd": "/usr/sbin/slurmd",
}
CLIENTS = ("sbatch", "squeue", "sinfo", "scontrol", "scancel", "srun")
INSTALL_HINT = (
    "install them with `apt-get install munge slurmctld slurmd slurm-client` (Debian/Ubuntu, as root); "
    ".ci/run does this before the tests"
)


@dataclass
class SlurmCluster:
    root: Path
    conf: Path
    nodes: list[str]
    env: dict

    def run(self, *command: str) -> str:
        return subprocess.run(
            command, env=self.env, capture_output=True, text=True, check=True
        ).stdout

    def jobs(self) -> list[dict]:
        """Every job slurmctld still knows (finished ones stay for MinJobAge): id, name, state, CPUs, comment."""
        out = self.run("squeue", "--states=all", "--noheader", "--format=%i|%j|%T|%C|%k")
        keys = ("id", "name", "state", "cpus", "comment")
        return [dict(zip(keys, line.split("|", 4))) for line in out.splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def _tail(path: Path, lines: int = 15) -> str:
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        if path.exists()
        else "(no log)"
    )


def write_slurm_conf(root: Path, nodes: list[str], munge_socket: Path) -> Path:
    """One node: this machine's CPUs and 90% of its memory. Several (one slurmd each on this machine, told apart by
    port and by %n in their file names): one CPU and an equal share of 90% of the memory each. One default
    partition, no accounting."""
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    )
    cpus, memory = (
        (os.cpu_count(), int(_memory_mb() * 0.9))
        if len(nodes) == 1
        else (1, int(_memory_mb() * 0.9 / len(nodes)))
    )
    conf = root / "slurm.conf"
    conf.write_text(
        "\n".join(
            [
                "ClusterName=w2stest",
                f"SlurmctldHost={socket.gethostname().split('.')[0]}(127.0.0.1)",
                f"SlurmctldPort={_free_port()}",
                f"SlurmUser={user}",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                f"AuthInfo=socket={munge_socket}",
                # No cgroups in a container: track job processes through /proc and bind no tasks to CPUs.
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "JobAcctGatherType=jobacct_gather/none",
                "AccountingStorageType=accounting_storage/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_CPU_Memory",
                # Finished jobs stay visible to squeue for 10 minutes: the plugin's status queries and the
                # tests read them.
                "MinJobAge=600",
                "ReturnToService=2",
                f"StateSaveLocation={root / 'state'}",
                f"SlurmdSpoolDir={root / 'spool' / '%n'}",
                f"SlurmctldPidFile={root / 'slurmctld.pid'}",
                f"SlurmdPidFile={root / 'slurmd.%n.pid'}",
                f"SlurmctldLogFile={root / 'slurmctld.log'}",
                f"SlurmdLogFile={root / 'slurmd.%n.log'}",
                *(
                    f"NodeName={node} NodeHostname=localhost NodeAddr=127.0.0.1 Port={_free_port()} CPUs={cpus} "
                    f"RealMemory={memory} State=UNKNOWN"
                    for node in nodes
                ),
                f"PartitionName=debug Nodes={','.join(nodes)} Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )
    )
    return conf


def _wait(what: str, ready, process: subprocess.Popen, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process.poll() is not None:
            pytest.fail(
                f"{what} exited with status {process.returncode} while starting; its log:\n{_tail(log)}"
            )
        time.sleep(0.2)
    pytest.fail(f"{what} not ready after {timeout:.0f} s; its log:\n{_tail(log)}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def slurm_cluster():
    """A one-node cluster of this machine."""
    yield from start_cluster([socket.gethostname().split(".")[0]])


@pytest.fixture(scope="session")
def slurm_two_nodes():
    """A two-node cluster, both nodes on this machine, for multi-node jobs."""
    yield from start_cluster(["n1", "n2"])


def start_cluster(nodes: list[str]):
    """Start munged, slurmctld (until `scontrol ping` says UP) and a slurmd per node (until `sinfo` says idle); stop
    them all, by their PIDs, when the session ends, whatever happened in between."""
    missing = [path for path in DAEMONS.values() if not os.access(path, os.X_OK)]
    missing += [name for name in CLIENTS if shutil.which(name) is None]
    if missing:
        pytest.fail(
            f"The Slurm test needs the Slurm and munge programs, but these are missing: "
            f"{', '.join(missing)}. Please {INSTALL_HINT}.",
            pytrace=False,
        )

    # Not under pytest's 0700 tmp folder: munged wants every folder above its socket searchable by all.
    root = Path(tempfile.mkdtemp(prefix="w2s-slurm-"))
    root.chmod(0o755)
    for folder in ("state", *(f"spool/{node}" for node in nodes)):
        (root / folder).mkdir(parents=True)
    munge_socket = root / "munge.socket"
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = write_slurm_conf(root, nodes, munge_socket)
    # Inside a job, snakemake-executor-plugin-slurm-jobstep runs the rule through `srun` with every SLURM_* variable
    # but the job's ids removed, SLURM_CONF included, so that srun would look for /etc/slurm/slurm.conf (where a real
    # cluster keeps it). An srun first on PATH (sbatch exports PATH into the job) points it back to this cluster.
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text(
        f'#!/bin/sh\nSLURM_CONF={conf} exec {shutil.which("srun")} "$@"\n'
    )
    (bin_dir / "srun").chmod(0o755)
    env = {
        **os.environ,
        "SLURM_CONF": str(conf),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    for name in [
        name
        for name in env
        if name.startswith(("SLURM_", "SBATCH_", "SRUN_")) and name != "SLURM_CONF"
    ]:
        del env[
            name
        ]  # a test session started inside a Slurm job must not hand that job's settings on
    cluster = SlurmCluster(root=root, conf=conf, nodes=nodes, env=env)

    def ping() -> bool:
        result = subprocess.run(["scontrol", "ping"], env=env, capture_output=True, text=True)
        return result.returncode == 0 and "is UP" in result.stdout

    def idle() -> bool:
        result = subprocess.run(
            ["sinfo", "--noheader", "--format=%T"], env=env, capture_output=True, text=True
        )
        return set(result.stdout.split()) == {"idle"}

    processes: list[subprocess.Popen] = []
    try:
        # In the foreground (-F, -D), so each daemon's PID is that of the process started here.
        munged = subprocess.Popen(
            [
                DAEMONS["munged"],
                "--foreground",
                f"--socket={munge_socket}",
                f"--key-file={key}",
                f"--log-file={root / 'munged.log'}",
                f"--pid-file={root / 'munged.pid'}",
                f"--seed-file={root / 'munged.seed'}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(munged)
        _wait("munged", munge_socket.exists, munged, root / "munged.log")
        slurmctld = subprocess.Popen(
            [DAEMONS["slurmctld"], "-D", "-f", str(conf)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(slurmctld)
        _wait("slurmctld", ping, slurmctld, root / "slurmctld.log")
        for node in nodes:
            processes.append(
                subprocess.Popen(
                    [DAEMONS["slurmd"], "-D", "-f", str(conf), "-N", node],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        _wait("slurmd", idle, processes[-1], root / f"slurmd.{nodes[-1]}.log")
        yield cluster
    finally:
        if len(processes) > 2 and slurmctld.poll() is None:
            # Jobs a failed test left behind would outlive slurmd (their slurmstepd is its own process).
            ids = subprocess.run(
                ["squeue", "--noheader", "--format=%i"], env=env, capture_output=True, text=True
            ).stdout.split()
            if ids:
                subprocess.run(["scancel", *ids], env=env, capture_output=True)
                deadline = time.monotonic() + 15
                while (
                    time.monotonic() < deadline
                    and subprocess.run(
                        ["squeue", "--noheader", "--format=%i"],
                        env=env,
                        capture_output=True,
                        text=True,
                    ).stdout.strip()
                ):
                    time.sleep(0.5)
        for process in reversed(processes):
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)
