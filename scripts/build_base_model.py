"""Rule build_base_model: a random-init causal LM and byte tokenizer, saved as a Hugging Face directory."""

from w2s.pipeline.warm import run_job

run_job("w2s.models.build:build_base_model", snakemake.log[0], out_dir=snakemake.output[0],
        build=snakemake.params.build)
