"""Rule generate_world: a synthetic world's pretraining corpus, labelled task and tokenizer."""

from w2s.data.world import generate_world
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    generate_world(snakemake.params.entry, snakemake.output[0])
