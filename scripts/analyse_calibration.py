"""Rule analyse_calibration: expected calibration error per predictions file, and reliability diagrams."""

from w2s.analysis.calibration import calibration_table, pooled_reliability
from w2s.analysis.plots import plot_calibration
from w2s.io import atomic_path, write_parquet
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    table = calibration_table(snakemake.params.runs)
    with atomic_path(snakemake.output.csv) as tmp:
        table.write_csv(tmp)
    write_parquet(table, snakemake.output.parquet)
    pooled = pooled_reliability(snakemake.params.runs)
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.plots):
        plot_calibration(pooled, dataset, snakemake.params.model_order, path)
    print(table, flush=True)
