"""Rule analyse_calibration: expected calibration error per predictions file, and reliability diagrams."""

from w2s.analysis.analysis_plots import plot_calibration
from w2s.analysis.calibration import calibration_table, pooled_reliability
from w2s.io import write_table
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    table = calibration_table(snakemake.params.runs)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    pooled = pooled_reliability(snakemake.params.runs)
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.plots):
        plot_calibration(pooled, dataset, snakemake.params.model_order, path)
    print(table, flush=True)
