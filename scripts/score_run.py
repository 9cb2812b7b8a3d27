"""Rules score_<role>_run: a run's test prediction shards merged into its predictions file and metrics."""

from w2s.analysis.predictions import score_run
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    score_run(list(snakemake.input.shards), snakemake.input.training, dict(snakemake.output.items()),
              snakemake.params.info)
