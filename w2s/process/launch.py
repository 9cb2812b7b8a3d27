"""Starting a model job under DeepSpeed's launcher: the launcher command, and the worker each of its processes runs.

One node: `torchrun --standalone --nproc_per_node P -m w2s.process.launch SPEC`. Several nodes (inside a Slurm job that
asked for one task per node): `srun` starts one torchrun per node and they meet at the first node of the job
(c10d rendezvous keyed by the Slurm job id, at a port derived from it). Each process then calls the job's function
(`module:function`, one of w2s.process.entry_points.JOBS) with the job's arguments, both from the spec file.

The functions are named, not imported: the jobs import this module, never the other way round.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from w2s.errors import W2SError
from w2s.process.entry_points import entry_point
from w2s.process.job import sole_writer
from w2s.training.gpus import claim_gpus

# Rendezvous ports, one per Slurm job: two multi-node jobs whose first node is the same machine must not meet at
# one port (a fixed port makes the second fail to bind, or join the first's rendezvous). Above the well-known and
# registered ports most clusters use, below Linux's default ephemeral range (32768-60999).
RENDEZVOUS_PORTS = range(20_000, 32_000)


def rendezvous_port(job_id: str) -> int:
    """The job's rendezvous port: from its id, so every node of the job computes the same one."""
    digits = re.sub(r"\D", "", job_id) or "0"  # an array task's id may read "1234_5"
    return RENDEZVOUS_PORTS.start + int(digits) % len(RENDEZVOUS_PORTS)


def scontrol(*args: str) -> str:
    return subprocess.run(["scontrol", *args], check=True, capture_output=True, text=True).stdout


def slurm_head_address(nodelist: str) -> str:
    """The address of a job's first node: its NodeAddr, which on most clusters is its hostname."""
    head = scontrol("show", "hostnames", nodelist).split()[0]
    address = re.search(r"\bNodeAddr=(\S+)", scontrol("show", "node", head, "--oneliner"))
    return address.group(1) if address else head


def launch_command(
    spec_path: str | Path,
    nodes: int,
    processes_per_node: int,
    env=os.environ,
    head_address=slurm_head_address,
) -> list[str]:
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={processes_per_node}",
    ]
    worker = ["-m", "w2s.process.launch", str(spec_path)]
    if nodes == 1:
        return [*torchrun, "--standalone", *worker]
    if "SLURM_JOB_ID" not in env:
        raise W2SError(
            f"a {nodes}-node DeepSpeed run must run inside a Slurm job (snakemake --profile slurm)"
        )
    head = head_address(
        env["SLURM_JOB_NODELIST"]
    )  # run_distributed sets it to the whole job's (job_nodelist)
    # --overlap: the job step running this rule already holds the job's CPUs; without it srun waits forever.
    # --ntasks: one torchrun per node, whatever task count the environment of the rule's own job step carries.
    return [
        "srun",
        "--overlap",
        f"--nodes={nodes}",
        f"--ntasks={nodes}",
        "--ntasks-per-node=1",
        "--kill-on-bad-exit=1",
        *torchrun,
        f"--nnodes={nodes}",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint={head}:{rendezvous_port(env['SLURM_JOB_ID'])}",
        f"--rdzv_id={env['SLURM_JOB_ID']}",
        *worker,
    ]


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent dies (Linux). torchrun starts its workers in sessions of
    their own, so a job killed with SIGKILL (Ctrl-C twice, the OOM killer, a local preemption) would otherwise
    leave workers training on and writing into a run that a rerun is already redoing."""
    if sys.platform != "linux":
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)


def job_nodelist(job_id: str) -> str:
    """The job's nodes as the controller knows them (inside a job step the environment names the step's)."""
    return re.search(r"\bNodeList=(\S+)", scontrol("show", "job", job_id, "--oneliner")).group(1)


def whole_job_env(nodelist: str, nodes: int, env=os.environ) -> dict:
    """The environment for an srun over the whole job from inside the rule's job step: the Slurm executor runs the
    rule with `srun -n1`, whose step describes one node and one task, and a nested srun would stay in it."""
    whole = {
        k: v
        for k, v in env.items()
        if k not in ("SLURM_NTASKS", "SLURM_NPROCS") and not k.startswith("SLURM_STEP_")
    }
    return {
        **whole,
        "SLURM_NODELIST": nodelist,
        "SLURM_JOB_NODELIST": nodelist,
        "SLURM_NNODES": str(nodes),
        "SLURM_JOB_NUM_NODES": str(nodes),
    }


def run_distributed(spec: dict, spec_path: str | Path, nodes: int, processes_per_node: int) -> None:
    """Write the spec, start the launcher, and fail like the slowest worker if any worker fails."""
    Path(spec_path).write_text(json.dumps(spec))
    env = dict(os.environ)
    if nodes > 1 and "SLURM_JOB_ID" in env:
        env = whole_job_env(job_nodelist(env["SLURM_JOB_ID"]), nodes, env)
    command = launch_command(spec_path, nodes, processes_per_node, env)
    print("launching:", " ".join(command), flush=True)
    result = subprocess.run(command, env=env, preexec_fn=die_with_parent)
    Path(spec_path).unlink(missing_ok=True)
    if result.returncode:
        raise W2SError(
            f"the DeepSpeed launcher exited with status {result.returncode}; see the worker output above"
        )


def leave_process_group() -> None:
    """Destroy the process group once the job has succeeded: left to interpreter teardown, gloo's worker threads
    can outlive it and abort the process ("terminate called without an active exception") after the outputs are
    written. Not after a failure, where the other ranks may still sit in a collective and destroying would hang."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def call(target: str, job: dict):
    return entry_point(target)(**job)


def in_launched_worker() -> bool:
    return "LOCAL_RANK" in os.environ  # set by torchrun for each process it starts


def relaunched(target: str, job: dict, spec_path: str | Path, launch: dict | None) -> bool:
    """For a model job that may need several processes: where its params name a DeepSpeed layout, `launch` (a model
    entry's, `rule_params.deepspeed_launch`) and this is not already one of the launcher's processes, run
    `target(**job)` (`module:function`) in every process of the launcher, where rank 0 writes the job's outputs, and
    return True; else False (the caller does the job here)."""
    if not launch or in_launched_worker():
        return False
    if (
        launch["nodes"] == 1
    ):  # a local run's job on a machine of several GPUs takes its own (Slurm's have theirs)
        claim_gpus(launch["processes_per_node"])
    run_distributed(
        {"target": target, "job": job}, spec_path, launch["nodes"], launch["processes_per_node"]
    )
    return True


FINETUNE = "w2s.jobs.finetune:finetune"
GENERATIVE = "w2s.training.generative:generative_finetune"


def finetune_job(**job) -> None:
    """A training rule's job (the fields of `w2s.jobs.finetune.FinetuneJob`), alone in its run folder."""
    run_dir = Path(job["out"]["training"]).parent
    with sole_writer(run_dir):
        if not relaunched(FINETUNE, job, run_dir / "launch.json", job["params"]["deepspeed"]):
            call(FINETUNE, job)


def generative_job(**job) -> None:
    """Rule generative_finetune's job (the arguments of `w2s.training.generative.generative_finetune`): for a
    model entry that trains with DeepSpeed, in the launcher's processes, as its training does."""
    out = Path(job["out_dir"])
    out.parent.mkdir(parents=True, exist_ok=True)
    if not relaunched(
        GENERATIVE, job, out.with_name(f".{out.name}.launch.json"), job.get("deepspeed")
    ):
        call(GENERATIVE, job)


def exit_without_teardown() -> None:
    """End a worker whose job succeeded without the interpreter's teardown: gloo's C++ threads can still hold
    tensors there, and freeing them during finalization aborts the process (SIGABRT) after its outputs were written,
    which the launcher reports as a failed job. The outputs are complete and closed by now; only streams need
    flushing."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":  # one worker process of the launcher
    die_with_parent()
    spec = json.loads(Path(sys.argv[1]).read_text())
    call(spec["target"], spec["job"])
    leave_process_group()
    exit_without_teardown()
