"""Each job of a local run on a machine of several GPUs takes its own (w2s.training.gpus): real processes, real
locks, a pretended count of installed GPUs (this machine has none)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from w2s.training.gpus import claim_gpus

# A job: take `count` of 3 GPUs, say which, and hold them until stdin closes.
JOB = """
import os, sys
from w2s.training.gpus import claim_gpus
claim_gpus(int(sys.argv[1]), installed=3, poll_seconds=0.05)
print("visible", os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
sys.stdin.read()
"""


def start(count: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", JOB, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def visible(job: subprocess.Popen) -> str:
    while not (line := job.stdout.readline()).startswith("visible"):
        assert line, "the job ended without taking GPUs"
    return line.split()[1]


@pytest.fixture
def env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    return {**env, "W2S_GPU_LOCK_DIR": str(tmp_path)}


def test_jobs_take_distinct_gpus_and_wait_for_one_to_be_free(env):
    first, second = start(1, env), start(1, env)
    gpu_first, gpu_second = visible(first), visible(second)
    assert gpu_first != gpu_second
    third = start(2, env)  # one GPU free: it waits for a second
    assert third.stdout.readline().startswith("waiting for 2 of the 3 GPUs: other jobs hold them")
    time.sleep(0.5)
    assert third.poll() is None
    first.kill()  # the kernel releases its lock, however it ended
    first.wait()
    pair = set(visible(third).split(","))
    assert pair == {"0", "1", "2"} - {gpu_second}  # the free one and the killed job's
    for job in (second, third):
        job.stdin.close()
        assert job.wait() == 0


def test_a_scheduler_or_a_single_gpu_leaves_the_choice_alone(env, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert claim_gpus(1, installed=8) == [] and os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert claim_gpus(1, installed=1) == [] and "CUDA_VISIBLE_DEVICES" not in os.environ
