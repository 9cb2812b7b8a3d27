"""What a training job trains: the whole classifier (finetuning, with LoRA where the entry asks), or a linear probe
on a backbone's cached activations; each split's token ids, and how the trained model is saved."""

from __future__ import annotations

import polars as pl

from w2s.models.answerer import Answerer
from w2s.models.classifier import TRAINING_DTYPE, load_tokenizer
from w2s.models.paths import local_model_dir
from w2s.models.probe import LinearProbe, read_activations, truncated_texts
from w2s.models.recompute import recompute_layers
from w2s.models.reward import scoring_model
from w2s.models.tokens import encode_answers, encode_prompts, encode_split


class FinetuneRun:
    """A run that finetunes the whole classifier (a reward model, on comparisons: params `pairs`): each split's
    token ids (and how many were truncated)."""

    answer_lengths = None

    def __init__(
        self, params: dict, frames: dict[str, pl.DataFrame], gradient_checkpointing: bool = False
    ):
        self.tokenizer = load_tokenizer(params["source"], params["trust_remote_code"])
        self.module = self.load(params)
        self.adapt(params, gradient_checkpointing)
        self.max_length = self.module.max_tokens(params["max_length"])
        self.pad_id = self.tokenizer.pad_token_id
        self.ids = self.encode(params, frames)

    def encode(self, params: dict, frames: dict[str, pl.DataFrame]) -> dict:
        """Each split's token ids and how many of its texts were truncated."""
        return {
            name: encode_split(frame, self.tokenizer, self.max_length)
            for name, frame in frames.items()
        }

    @staticmethod
    def load(params: dict):
        return scoring_model(params).load(
            params["source"],
            TRAINING_DTYPE,  # not params["dtype"], which is the dtype of the jobs that only predict
            params["head_init"],
            params["trust_remote_code"],
            params.get("label_tokens"),
        )

    def adapt(self, params: dict, gradient_checkpointing: bool) -> None:
        """LoRA adapters and gradient checkpointing, where the run asks for them."""
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

    def save(self, out_dir, state: dict | None = None) -> None:
        self.module.save(out_dir, self.tokenizer, state)


class AnswerRun(FinetuneRun):
    """A run on a generative task (w2s.data.answers): the causal LM itself trains on the answers of `target_column`
    (the truth, or a supervisor's generated answers); the other splits are prompts to answer."""

    def __init__(
        self,
        params: dict,
        frames: dict[str, pl.DataFrame],
        target_column: str,
        gradient_checkpointing: bool = False,
    ):
        self.target_column, self.answer_format = target_column, params["answers"]
        super().__init__(params, frames, gradient_checkpointing)

    def encode(self, params: dict, frames: dict[str, pl.DataFrame]) -> dict:
        """The training split as prompt-then-answer rows (their answer lengths kept), the others as prompts."""
        fmt, train = self.answer_format, frames["train"]
        ids, self.answer_lengths, truncated = encode_answers(
            train["text"].to_list(),
            train[self.target_column].to_list(),
            self.tokenizer,
            self.max_length,
            fmt["prefix"],
            fmt["stop"],
        )
        prompts = {
            name: encode_prompts(
                frame["text"].to_list(), self.tokenizer, self.max_length, fmt["max_new_tokens"]
            )
            for name, frame in frames.items()
            if name != "train"
        }
        return {"train": (ids, truncated), **prompts}

    @staticmethod
    def load(params: dict):
        return Answerer.load(params["source"], TRAINING_DTYPE, params["trust_remote_code"])


class ProbeRun:
    """A run that trains a linear probe on the backbone's cached activations of each split (w2s.models.probe)."""

    answer_lengths = None  # a probe classifies (a generative task refuses probes)

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
