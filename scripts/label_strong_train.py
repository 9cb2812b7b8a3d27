"""Rule label_strong_train: the weak model's soft labels on one shard of strong_train."""

from w2s.job import logged
from w2s.run import label_split

with logged(snakemake.log[0]):
    label_split(snakemake.input.checkpoint, snakemake.input.split, snakemake.output[0], snakemake.params.training,
                snakemake.params.info, snakemake.threads, snakemake.params.shard, snakemake.params.shards)
