"""Rule score_zero_shot: a model's own answer on the test split (its label tokens' logits), without finetuning."""

from w2s.job import logged
from w2s.run import zero_shot

with logged(snakemake.log[0]):
    zero_shot(snakemake.params.prediction, snakemake.input.test, dict(snakemake.output.items()), snakemake.params.info,
              snakemake.threads)
