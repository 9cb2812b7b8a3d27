"""Rule crossfit_chain_labels: a chain link's held-out labels of strong_train, for the next link (w2s.pipeline.
crossfit)."""

from w2s.pipeline.grid import untracked_job_settings
from w2s.pipeline.warm import run_job

activations = {name: snakemake.input.get(f"activations_{name}") for name in ("split", "test")}
run_job(
    "w2s.pipeline.crossfit:crossfit_labels",
    snakemake.log[0],
    params=snakemake.params.training,
    labels_path=snakemake.input.labels,
    split_path=snakemake.input.split,
    test_path=snakemake.input.test,
    out_path=snakemake.output[0],
    threads=snakemake.threads,
    # a linear probe's activations of strong_train and test; none for a finetuned link
    activations={k: v if isinstance(v, str) else v[0] for k, v in activations.items() if v} or None,
    **untracked_job_settings(snakemake.config, snakemake.wildcards.model),
    **snakemake.params.job,
)
