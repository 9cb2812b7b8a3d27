"""Rule generate_world: a synthetic world's pretraining corpus, labelled task and tokenizer."""

from w2s.pipeline.warm import run_job

run_job("w2s.data.world:generate_world", snakemake.log[0], entry=snakemake.params.entry, out_dir=snakemake.output[0])
