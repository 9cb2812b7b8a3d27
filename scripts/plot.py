"""Rule plot_results: accuracy per dataset, PGR per loss, PGR per task with its median, and the methods side by side,
in the paper's style."""

import polars as pl

from w2s.analysis.plots import plot_accuracy, plot_methods, plot_pgr, plot_pgr_by_task
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    # direct pairs' final models; early-stopped rows and bootstrapping chains are in the tables
    agg = pl.read_csv(snakemake.input.aggregate, schema_overrides={"chain": pl.String})
    agg = agg.filter((pl.col("early_stopping") == "none") & (pl.col("chain").fill_null("") == ""))
    order = snakemake.params.model_order
    for dataset, path in zip(snakemake.params.datasets, snakemake.output.accuracy):
        plot_accuracy(agg, dataset, order, path)
    for loss, path in zip(snakemake.params.losses, snakemake.output.pgr):
        plot_pgr(agg, loss, order, path)
    for loss, path in zip(snakemake.params.losses, snakemake.output.pgr_by_task):
        plot_pgr_by_task(agg, loss, order, path)
    # every method and early stop, side by side
    overall = pl.read_csv(
        snakemake.input.overall, schema_overrides={"chain": pl.String}
    ).with_columns(pl.col("chain").fill_null(""))
    for loss, path in zip(snakemake.params.losses, snakemake.output.methods):
        plot_methods(overall, loss, order, path)
