"""Rules train_weak, train_ceiling, train_student: finetune one model and score it on the test split."""

from w2s.pipeline.grid import untracked_settings
from w2s.pipeline.warm import run_job

run_job(
    "w2s.pipeline.launch:finetune_job",
    snakemake.log[0],
    params=snakemake.params.training,
    train_path=snakemake.input.train,
    target_column=snakemake.params.target_column,
    test_path=snakemake.input.test,
    loss_name=snakemake.params.loss_name,
    loss_entry=snakemake.params.loss,
    out=dict(snakemake.output.items()),
    info=snakemake.params.info,
    threads=snakemake.threads,
    progress=untracked_settings(snakemake.config),
    label_split_path=snakemake.input.get("label_split"),
    label_info=snakemake.params.get("label_info"),
)
