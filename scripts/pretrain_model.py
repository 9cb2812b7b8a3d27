"""Rule pretrain_model: a causal LM pretrained on its world's corpus, saved as a Hugging Face directory."""

import torch

from w2s.pipeline.job import logged
from w2s.training.pretrain import pretrain

with logged(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    pretrain(snakemake.output[0], snakemake.input.world[0], **snakemake.params.pretrain)
