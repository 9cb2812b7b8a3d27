"""The disk a plan's jobs write (w2s plan): final checkpoints, early stops kept as models, generatively finetuned
models, resume states while runs train, and the hub models' weights in the cache."""

from __future__ import annotations

from collections import Counter

from w2s.hub import cache_dir
from w2s.models.dtypes import TRAINING_DTYPE
from w2s.pipeline.dry_run_jobs import TRAINING_ROLES, Job, head_outputs, job_shape
from w2s.pipeline.fetch import hub_references, human
from w2s.pipeline.grid import keeps_checkpoint, stops_early
from w2s.pipeline.model_shapes import DTYPE_BYTES, model_shape


def disk_lines(config: dict, jobs: list[Job]) -> list[str]:
    """The disk the planned jobs write (weights in fp32, as training holds them), by what keeps it and for how long:
    final checkpoints, early stops kept as models, generatively finetuned models, resume states while runs train; and
    the hub models' weights in the cache."""
    width = DTYPE_BYTES[TRAINING_DTYPE]
    disk = Counter()  # what -> bytes
    largest, resume_largest, runs, unknown, counted = 0, 0, 0, set(), {}
    every = config["training"]["checkpoint_every"]
    for job in jobs:
        role = TRAINING_ROLES.get(job.rule)
        if job.rule != "generative_finetune" and not role:
            continue
        model = job.wildcards["model"]
        size = job_shape(config, job)
        if size is None:
            unknown.add(model)
            continue
        shape, stored = size
        if job.rule == "generative_finetune":
            # the causal LM, saved with its untied head where it has one
            disk["generative"] += width * shape.language_model
            continue
        counted[model, head_outputs(config, job.wildcards["dataset"])] = size
        if every:  # weights that train and Adam's two moments; the old state stays until the new one is written
            runs += 1
            resume_largest = max(resume_largest, 2 * 3 * width * shape.trained)
            disk["resume"] += 2 * 3 * width * shape.trained
        if config["models"][model]["mode"] == "probe":
            continue  # a probe's checkpoint links its backbone's files: only the head is new
        n_bytes = stored * width
        largest = max(largest, n_bytes)
        disk["kept" if keeps_checkpoint(config, role) else "deleted"] += n_bytes
        if stops_early(config, role):
            disk["early stops"] += n_bytes
    hub, not_fetched = hub_bytes(config)
    lines = [
        "",
        f"disk of the jobs above, estimated from each model's shape (weights in {TRAINING_DTYPE}, as training holds "
        "them):",
        f"  final checkpoints kept at the end: {human(disk['kept'])}",
        f"  early stops kept as models (early_stopping weak_val: each run where it agreed best with its supervision): "
        f"{human(disk['early stops'])}",
        f"  generatively finetuned models kept (their untied LM heads included): {human(disk['generative'])}",
        f"  final checkpoints deleted once their predictions exist (keep_checkpoints: {config['keep_checkpoints']}): "
        f"{human(disk['deleted'])}; each is on disk while its run and its readers run (the largest: {human(largest)})",
    ]
    if every:
        lines.append(
            f"  resume states while a run trains (training.checkpoint_every {every}; deleted when it ends): up to "
            f"two per run at a save, weights and Adam's moments (the largest run's: {human(resume_largest)}); "
            f"{human(disk['resume'])} if all {runs} runs trained at once"
        )
    lines.append(
        f"  hub models in the cache ({cache_dir()}; weights in the dtype each config.json names): {human(hub)}"
        + (f" (not counted, not fetched yet: {', '.join(not_fetched)})" if not_fetched else "")
    )
    lines.append(
        f"  kept at the end in all, hub cache included: "
        f"{human(disk['kept'] + disk['early stops'] + disk['generative'] + hub)}"
    )
    for (model, outputs), (shape, stored) in counted.items():
        lines.append(
            f"  {model}{' (reward model)' if outputs == 1 else ''}: {shape.params:,} parameters, "
            f"{stored:,} stored per checkpoint"
            + (" (LoRA adapters and head)" if "lora" in config["models"][model] else "")
        )
    if unknown:
        lines.append(
            f"  not counted (no config.json to be had offline): {', '.join(sorted(unknown))}"
        )
    return lines


def hub_bytes(config: dict) -> tuple[int, list[str]]:
    """The weights of the hub models the config loads, each repository and revision once; and the models whose
    shape cannot be had offline (not fetched), not counted."""
    total, unknown = 0, []
    for keys in hub_references(config).values():
        models = [key.removeprefix("models.") for key in keys if key.startswith("models.")]
        if not models:
            continue
        shape = model_shape(config, models[0])
        if shape:
            total += shape[0].source_bytes
        else:
            unknown.append(models[0])
    return total, unknown
