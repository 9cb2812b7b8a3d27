"""Rule analyse_scaling: the plain students' accuracy and PGR against the strong model's size."""

from w2s.analysis.analysis_plots import plot_scaling
from w2s.analysis.scaling import model_sizes, scaling_table
from w2s.io import atomic_path, read_json, read_parquet, write_parquet
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    sizes, axis = model_sizes([read_json(path) for path in snakemake.input.sizes], snakemake.params.compute)
    table = scaling_table(read_parquet(snakemake.input.aggregate), sizes, axis)
    with atomic_path(snakemake.output.csv) as tmp:
        table.write_csv(tmp)
    write_parquet(table, snakemake.output.parquet)
    for loss, path in zip(snakemake.params.losses, snakemake.output.plots):
        plot_scaling(table, loss, path)
    print(table, flush=True)
