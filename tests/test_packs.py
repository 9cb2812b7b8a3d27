"""What a packed submission asks for (w2s.pipeline.packs), from a dry run's jobs, and where w2s plan finds the CPUs a
pack may run side by side. tests/test_offline_cluster.py checks a pack's request against the real Slurm job's."""

from __future__ import annotations

from snakemake_helpers import REPO, tiny_config

from w2s.pipeline.config import validate_config
from w2s.pipeline.dry_run_jobs import Job
from w2s.pipeline.packs import group_request
from w2s.pipeline.plan import pack_lines, submission_cores


def job(rule, reads=(), writes=(), cpus=4, runtime=240, mem=8000, gpu=1, group=0) -> Job:
    resources = {"cpus_per_task": str(cpus), "runtime": str(runtime), "mem_mb": str(mem)}
    if gpu:
        resources["gpu"] = str(gpu)
    return Job(rule, resources=resources, group=group, inputs=tuple(reads), outputs=tuple(writes))


def a_pack(group=0) -> list[Job]:
    """A split; three trainings that read it; two students, each reading one training's labels."""
    split = job(
        "split_dataset",
        writes=["d/train", "d/test"],
        cpus=1,
        runtime=30,
        mem=4000,
        gpu=0,
        group=group,
    )
    trained = [job("train_weak", ["d/train"], [f"w{i}"], group=group) for i in range(3)]
    students = [job("train_student", [f"w{i}", "d/test"], [f"s{i}"], group=group) for i in range(2)]
    return [
        *students,
        split,
        *trained,
    ]  # the dry run lists a group's jobs by rule name, not by dependency


def test_a_pack_runs_its_levels_in_turn_and_a_levels_jobs_side_by_side_up_to_the_cores():
    # 8 CPUs: two trainings side by side, the third after them; the two students side by side
    wide = group_request(a_pack(), cores=8)
    assert (wide.runtime, wide.cpus_per_task, wide.mem_mb, wide.gpu, wide.jobs) == (
        30 + 480 + 240,
        8,
        16000,
        2,
        6,
    )
    # no limit: a level's jobs all at once
    assert (
        group_request(a_pack(), cores=None).sbatch()
        == "-t 510 --mem 24000M --cpus-per-task 12 --gpus 3"
    )
    # one CPU: every job after the other, the submission as large as its largest job
    serial = group_request(a_pack(), cores=1)
    assert (serial.runtime, serial.cpus_per_task, serial.mem_mb, serial.gpu) == (
        30 + 5 * 240,
        4,
        8000,
        1,
    )
    assert (
        serial.too_wide and not wide.too_wide
    )  # a 4-CPU job in a 1-CPU pack: Snakemake refuses it


def test_the_plan_lists_each_packs_request_and_flags_one_over_a_node():
    config = validate_config(tiny_config())
    config["cluster"].update(gpus_per_node=2, max_runtime=600)
    jobs = a_pack(0) + a_pack(1) + [job("summarize_runs", cpus=1, runtime=10, gpu=0, group=None)]
    lines = pack_lines(config, jobs, cores=8)
    assert lines[1].endswith("(a group's jobs side by side, up to 8 CPUs, the rest after them):")
    assert lines[2] == (
        "  6 jobs: -t 750 --mem 16000M --cpus-per-task 8 --gpus 2; OVER cluster.max_runtime 600: fewer jobs to a "
        "pack, or no packing (x2)"
    )
    config["cluster"].update(max_runtime=2880)
    (line,) = pack_lines(config, jobs, cores=None)[2:]
    assert line.startswith(
        "  6 jobs: -t 510 --mem 24000M --cpus-per-task 12 --gpus 3; MORE GPUS THAN A NODE HAS"
    )
    assert pack_lines(config, jobs[-1:], cores=8) == []  # nothing packed, nothing to say


def test_the_cores_come_from_the_arguments_or_the_profile(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    assert (
        submission_cores(["--profile", "slurm"]) == 32
    )  # slurm/config.yaml: a node of 8 GPUs at 4 CPUs each
    assert submission_cores(["--profile=slurm", "--cores", "4"]) == 4
    assert submission_cores(["-c", "6"]) == 6
    assert submission_cores([]) is None
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".config/snakemake/site").mkdir(parents=True)
    (tmp_path / ".config/snakemake/site/config.yaml").write_text("executor: slurm\ncores: 48\n")
    assert (
        submission_cores(["--profile", "site"]) == 48
    )  # a profile installed where Snakemake looks for one
