"""Rule analyse_scaling: the plain students' accuracy and PGR against the strong model's size."""

from w2s.analysis.analysis_plots import plot_scaling
from w2s.analysis.scaling import model_sizes, scaling_table
from w2s.io import read_json, read_parquet, write_table
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    sizes, axis = model_sizes(
        [read_json(path) for path in snakemake.input.sizes], snakemake.params.compute
    )
    table = scaling_table(read_parquet(snakemake.input.aggregate), sizes, axis)
    write_table(table, snakemake.output.csv, snakemake.output.parquet)
    for loss, path in zip(snakemake.params.losses, snakemake.output.plots):
        plot_scaling(table, loss, path)
    print(table, flush=True)
