"""Rule label_strong_train: the weak model's soft labels on strong_train, as an inspectable parquet file."""

from w2s.job import logged
from w2s.run import label_split

with logged(snakemake.log[0]):
    label_split(snakemake.input.checkpoint, snakemake.input.split, snakemake.output[0], snakemake.params.training,
                snakemake.params.info, snakemake.threads)
