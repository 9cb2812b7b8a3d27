"""Rule analyse_groups: the weak labels' and every run's accuracy within each group of examples."""

from w2s.analysis.analysis_plots import plot_groups
from w2s.analysis.groups import group_table
from w2s.io import write_table
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    table = group_table(snakemake.params.runs)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.plots):
        plot_groups(table, dataset, snakemake.params.model_order, path)
    print(table, flush=True)
