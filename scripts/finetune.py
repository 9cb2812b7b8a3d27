"""Rules train_weak, train_ceiling, train_student: finetune one model and score it on the test split."""

from w2s.pipeline.grid import untracked_job_settings
from w2s.pipeline.warm import run_job

run_job(
    "w2s.pipeline.launch:finetune_job",
    snakemake.log[0],
    params=snakemake.params.training,
    train_path=snakemake.input.train,
    test_path=snakemake.input.test,
    label_split_path=snakemake.input.get("label_split"),
    validation_path=snakemake.input.get("validation"),
    # a linear probe's activations of each split it reads (train, test, label, validation); none when finetuning
    activations={k.removeprefix("activations_"): v if isinstance(v, str) else v[0]
                 for k, v in snakemake.input.items() if k.startswith("activations_") and v} or None,
    out=dict(snakemake.output.items()),
    threads=snakemake.threads,
    # how the run reports, saves progress and uses memory, not its result: read from the config, not the params,
    # so changing them reruns nothing (and adding one changes the package, not this script, which would rerun all)
    **untracked_job_settings(snakemake.config, snakemake.wildcards.model),
    **snakemake.params.job,
)
