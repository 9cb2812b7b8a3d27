"""The job entry points: every function a rule's script, the warm worker or the DeepSpeed launcher runs, named
`module:function`. Only these run: a spec file or a request to the warm worker cannot call anything else. (The
rules' scripts spell names of their own; changing a script would rerun its rule's finished jobs, so the names they
spell stay, routed by SCRIPT_ROUTES.)"""

from __future__ import annotations

import importlib

from w2s.errors import W2SError

JOBS = (
    "w2s.data.world:generate_world",
    "w2s.models.build:build_base_model",
    "w2s.training.pretrain:pretrain",
    "w2s.training.generative:generative_finetune",
    "w2s.process.launch:finetune_job",  # rules train_*: w2s.jobs.finetune:finetune in its run folder
    "w2s.process.launch:generative_job",  # rule generative_finetune: the function above, launched if need be
    "w2s.jobs.finetune:finetune",  # the launcher's processes of a DeepSpeed training job
    "w2s.jobs.crossfit:crossfit_labels",
    "w2s.jobs.run:extract_activations",
    "w2s.jobs.run:label_split",
    "w2s.jobs.run:zero_shot",
    "w2s.jobs.run:few_shot",
)


# The names a rule's script spells for a job that is now started by another function, or lives in another module:
# the script (and so the name) stays, the job goes where it is routed. Rule generative_finetune's script predates its
# DeepSpeed launcher; the others' predate the split of w2s.pipeline into parse time (pipeline), job time (jobs) and
# process plumbing (process).
SCRIPT_ROUTES = {
    "w2s.training.generative:generative_finetune": "w2s.process.launch:generative_job",
    "w2s.pipeline.launch:finetune_job": "w2s.process.launch:finetune_job",
    "w2s.pipeline.crossfit:crossfit_labels": "w2s.jobs.crossfit:crossfit_labels",
    **{
        f"w2s.pipeline.run:{job}": f"w2s.jobs.run:{job}"
        for job in ("extract_activations", "label_split", "zero_shot", "few_shot")
    },
}


def script_entry_point(name: str) -> str:
    """The job a rule's script names `name` runs: `name`, or where SCRIPT_ROUTES sends it."""
    return SCRIPT_ROUTES.get(name, name)


def entry_point(name: str):
    """The function `name` names (imported on first use: a job loads only the modules it needs)."""
    if name not in JOBS:
        raise W2SError(f"{name} is not a job entry point (w2s.process.entry_points.JOBS)")
    module, function = name.split(":")
    return getattr(importlib.import_module(module), function)
