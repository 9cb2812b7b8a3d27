"""Rule build_base_model: a random-init causal LM and byte tokenizer, saved as a Hugging Face directory."""

from w2s.io import atomic_path
from w2s.models.build import build_model
from w2s.pipeline.job import logged

with logged(snakemake.log[0]):
    with atomic_path(snakemake.output[0]) as tmp:
        build_model(tmp, **snakemake.params.build)
    print(f"built {snakemake.params.build} into {snakemake.output[0]}", flush=True)
