"""What a packed submission asks the cluster for (models.<name>.pack: one Slurm job runs a dataset and seed's jobs),
summed the way Snakemake 9 sums a group job's resources (snakemake.resources.GroupResources.basic_layered):

- the group's jobs fall into levels by dependency: a job comes after the group's jobs whose outputs it reads;
- within a level, jobs run side by side in layers of at most `cores` CPUs (the profile's `cores`: a node's), the
  longest first, each in the first layer with room; a layer asks for the sum of its jobs' CPUs, memory and GPUs and
  lasts as long as its longest job;
- the submission asks for the most that any layer asks, for the sum of the layers' runtimes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

SIDE_BY_SIDE = (
    "cpus_per_task",
    "mem_mb",
    "gpu",
)  # summed over a layer's jobs; the largest layer's is asked for


@dataclass(frozen=True)
class Request:
    runtime: int  # minutes
    cpus_per_task: int
    mem_mb: int
    gpu: int
    jobs: int
    too_wide: bool = False  # a job asks for more CPUs than `cores`: Snakemake refuses to group it

    def sbatch(self) -> str:
        gpus = f" --gpus {self.gpu}" if self.gpu else ""
        return f"-t {self.runtime} --mem {self.mem_mb}M --cpus-per-task {self.cpus_per_task}{gpus}"


def amount(job, resource: str) -> int:
    return int(job.resources.get(resource, 0) or 0)


def levels(members: list) -> list[list]:
    """The group's jobs by dependency level: each after the group's jobs that write what it reads."""
    writer = {path: job for job in members for path in job.outputs}
    depth: dict[int, int] = {}

    def level(job) -> int:
        if id(job) not in depth:
            readers = [writer[path] for path in job.inputs if path in writer]
            depth[id(job)] = 1 + max(map(level, readers), default=-1)
        return depth[id(job)]

    by_level = defaultdict(list)
    for job in members:
        by_level[level(job)].append(job)
    return [by_level[k] for k in sorted(by_level)]


def layers(jobs: list, cores: int | None) -> list[list]:
    """One level's jobs in layers of at most `cores` CPUs (None: no limit), longest first, each in the first layer
    with room (and the CPU-hungriest first among equally long ones)."""
    ordered = sorted(
        jobs, key=lambda job: (amount(job, "runtime"), amount(job, "cpus_per_task")), reverse=True
    )
    rows: list[list] = []
    for job in ordered:
        cpus = amount(job, "cpus_per_task")
        row = next(
            (
                row
                for row in rows
                if cores is None or sum(amount(j, "cpus_per_task") for j in row) + cpus <= cores
            ),
            None,
        )
        if row is None:
            rows.append(row := [])
        row.append(job)
    return rows


def group_request(members: list, cores: int | None) -> Request:
    """The submission of one group job."""
    widest = dict.fromkeys(SIDE_BY_SIDE, 0)
    runtime = 0
    for level in levels(members):
        for layer in layers(level, cores):
            runtime += max(amount(job, "runtime") for job in layer)
            for resource in SIDE_BY_SIDE:
                widest[resource] = max(
                    widest[resource], sum(amount(job, resource) for job in layer)
                )
    too_wide = cores is not None and any(amount(job, "cpus_per_task") > cores for job in members)
    return Request(runtime, jobs=len(members), too_wide=too_wide, **widest)
