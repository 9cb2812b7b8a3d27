"""Rules analyse_<name>: one analysis of w2s.pipeline.analyses, its table and figures."""

from w2s.pipeline.analyses import run_analysis
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    run_analysis(
        snakemake.params.name,
        {name: list(files) for name, files in snakemake.input.items()},
        snakemake.params.analysis,
        snakemake.output,
    )
