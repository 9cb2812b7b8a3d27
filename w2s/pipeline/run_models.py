"""What a training job trains: the whole classifier (finetuning, with LoRA where the entry asks), or a linear probe
on a backbone's cached activations; each split's token ids, and how the trained model is saved."""

from __future__ import annotations

import polars as pl

from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.paths import local_model_dir
from w2s.models.probe import LinearProbe, read_activations, truncated_texts
from w2s.models.recompute import recompute_layers
from w2s.models.tokens import encode


class FinetuneRun:
    """A run that finetunes the whole classifier: each split's token ids (and how many were truncated)."""

    def __init__(
        self, params: dict, frames: dict[str, pl.DataFrame], gradient_checkpointing: bool = False
    ):
        self.tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
        self.module = Classifier.load(
            params["source"],
            params["dtype"],
            params["head_init"],
            params["trust_remote_code"],
            params.get("label_tokens"),
        )
        if params.get("lora"):
            trainable = self.module.add_lora(params["lora"], params["source"])
            total = sum(p.numel() for p in self.module.parameters())
            print(
                f"LoRA: {trainable:,} of {total:,} parameters train (adapters and head)", flush=True
            )
        if gradient_checkpointing:
            print(
                f"gradient checkpointing: {recompute_layers(self.module.backbone)} layers recomputed in the "
                "backward pass",
                flush=True,
            )
        self.max_length = self.module.max_tokens(params["max_length"])
        self.pad_id = self.tokenizer.pad_token_id
        self.ids = {
            name: encode(frame["text"].to_list(), self.tokenizer, self.max_length)
            for name, frame in frames.items()
        }

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, self.tokenizer, state)


class ProbeRun:
    """A run that trains a linear probe on the backbone's cached activations of each split (w2s.models.probe)."""

    def __init__(self, params: dict, activations: dict, frames: dict[str, pl.DataFrame]):
        self.source, self.max_length, self.pad_id = params["source"], params["max_length"], 0
        files = {name: activations[name] for name in frames}
        self.module = LinearProbe(
            {name: read_activations(files[name], len(frames[name])) for name in frames},
            params["head_init"],
        )
        self.ids = {name: (self.module.ids(name), truncated_texts(files[name])) for name in frames}

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, local_model_dir(self.source), state)
