"""Rules label_strong_train and predict_<role>_test: a trained model's predictions on one shard of a split."""

from w2s.pipeline.job import logged
from w2s.pipeline.run import label_split

with logged(snakemake.log[0]):
    label_split(snakemake.input.checkpoint, snakemake.input.split, snakemake.output[0], snakemake.params.prediction,
                snakemake.params.info, snakemake.threads, snakemake.params.shard, snakemake.params.shards)
