"""Rule analyse_agreement: agreement with the weak supervisor, where it was right and where it was wrong."""

from w2s.analysis.agreement import agreement_table
from w2s.analysis.analysis_plots import plot_agreement
from w2s.io import write_table
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    table = agreement_table(snakemake.params.runs)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.plots):
        plot_agreement(table, dataset, snakemake.params.model_order, path)
    print(table, flush=True)
