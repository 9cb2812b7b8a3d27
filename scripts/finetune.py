"""Rules train_weak, train_ceiling, train_student: finetune one model and score it on the test split."""

from w2s.pipeline.grid import untracked_settings
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
    progress=untracked_settings(snakemake.config),
    # memory, not the result (the same update): kept out of the params, so switching it reruns nothing
    gradient_checkpointing=snakemake.config["models"][snakemake.wildcards.model]["gradient_checkpointing"],
    **snakemake.params.job,
)
