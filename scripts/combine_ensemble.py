"""Rule combine_ensemble: an ensemble supervisor's labels and test predictions from its members' (nothing trains)."""

from w2s.pipeline.ensembles import ensemble_job
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    ensemble_job(
        labels=list(snakemake.input.labels),
        test=list(snakemake.input.test),
        validation=list(snakemake.input.validation),
        out=dict(snakemake.output.items()),
        **snakemake.params.job,
    )
