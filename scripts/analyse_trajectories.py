"""Rule analyse_trajectories: students' accuracy and agreement with their supervisor at every evaluation."""

from w2s.analysis.analysis_plots import plot_trajectories
from w2s.analysis.trajectories import trajectory_table
from w2s.io import write_table
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    table = trajectory_table(snakemake.params.runs)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.plots):
        plot_trajectories(table, dataset, snakemake.params.model_order, path)
    print(table, flush=True)
