"""Rule pretrain_model: a causal LM pretrained on its world's corpus, saved as a Hugging Face directory."""

from w2s.pipeline.warm import run_job

run_job("w2s.training.pretrain:pretrain", snakemake.log[0], out_dir=snakemake.output[0],
        world_dir=snakemake.input.world[0], threads=snakemake.threads, **snakemake.params.pretrain)
