"""Rule merge_label_shards: the labelling shards, in order, as one inspectable labels file."""

from w2s.analysis.predictions import merge_label_shards
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    merge_label_shards(list(snakemake.input), snakemake.output[0])
