"""Rule generative_finetune: a model finetuned as a language model on a task's texts, saved as a Hugging Face
directory its classification runs start from."""

from w2s.pipeline.warm import run_job

run_job("w2s.training.generative:generative_finetune", snakemake.log[0], out_dir=snakemake.output[0],
        split_paths=list(snakemake.input.texts), threads=snakemake.threads, **snakemake.params.generative)
