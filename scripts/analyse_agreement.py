"""Rule analyse_agreement: agreement with the weak supervisor, where it was right and where it was wrong."""

from w2s.analysis.agreement import agreement_table
from w2s.analysis.plots import plot_agreement
from w2s.io import atomic_path, write_parquet
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    table = agreement_table(snakemake.params.runs)
    with atomic_path(snakemake.output.csv) as tmp:
        table.write_csv(tmp)
    write_parquet(table, snakemake.output.parquet)
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.plots):
        plot_agreement(table, dataset, snakemake.params.model_order, path)
    print(table, flush=True)
