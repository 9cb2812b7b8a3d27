"""Rule score_zero_shot: a model's own answer on each seed's test split (its label tokens' logits), no finetuning."""

from w2s.pipeline.job import logged
from w2s.pipeline.run import zero_shot

with logged(snakemake.log[0]):
    outs = [{"metrics": m, "predictions": p} for m, p in zip(snakemake.output.metrics, snakemake.output.predictions)]
    zero_shot(snakemake.params.prediction, list(snakemake.input.test), outs, snakemake.params.info, snakemake.threads)
