"""A model's shape, counted before anything runs: its parameters (all, and those that train, with its task's head
and any LoRA adapters), its layers' widths and context, and what its source stores; what the memory, compute and
disk estimates of `w2s plan` and the cluster requests are computed from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace

from w2s.hub import split_revision
from w2s.pipeline.rule_params import model_source
from w2s.pipeline.shape_store import read_record, shape_digest, write_record

DTYPE_BYTES = {"float32": 4, "bfloat16": 2}
SOURCE_DTYPE_BYTES = {**DTYPE_BYTES, "float16": 2}  # what hub checkpoints come in


@dataclass(frozen=True)
class Shape:
    """What the estimate needs of a model: parameters (all, and those that train), and its layers' widths."""

    params: int
    trained: int
    hidden: int
    intermediate: int
    layers: int
    vocab: int
    kv_width: int  # keys (or values) per token per layer: kv heads x head width
    # the tokens of a row: the entry's max_length, capped at the model's context window
    context: int
    lm_head: int  # the language-model head's parameters where it does not share the embedding's (0 where it does)
    # the language model's own parameters (no classifier head, no adapters; its LM head too where untied), and the
    # bytes a parameter takes where its source stores it: the dtype its config names, fp32 where it names none
    language_model: int = 0
    source_dtype_bytes: int = 4

    @property
    def source_bytes(self) -> int:
        """The language model's weights as its source stores them: what a hub model takes in the cache."""
        return self.language_model * self.source_dtype_bytes

    def as_language_model(self) -> Shape:
        """The causal LM itself (generative finetuning, generated answers): its LM head too, where untied, which
        trains where every weight does (not under LoRA)."""
        trains = self.lm_head if self.trained == self.params else 0
        return replace(self, params=self.params + self.lm_head, trained=self.trained + trains)

    @classmethod
    def of(cls, lm_config, params: int, trained: int, context: int, backbone: int = 0) -> Shape:
        """From a transformers config, the parameter counts and `backbone`, the language model's parameters
        without its LM head."""
        hidden = lm_config.hidden_size
        intermediate = (
            getattr(lm_config, "intermediate_size", None)
            or getattr(lm_config, "n_inner", None)
            or 4 * hidden
        )
        heads = lm_config.num_attention_heads
        kv_heads = getattr(lm_config, "num_key_value_heads", None) or heads
        lm_head = (
            0 if getattr(lm_config, "tie_word_embeddings", True) else lm_config.vocab_size * hidden
        )
        source_dtype = str(getattr(lm_config, "dtype", None) or "float32").removeprefix("torch.")
        return cls(
            params,
            trained,
            hidden,
            intermediate,
            lm_config.num_hidden_layers,
            lm_config.vocab_size,
            kv_heads * (hidden // heads),
            context,
            lm_head,
            backbone + lm_head,
            SOURCE_DTYPE_BYTES.get(source_dtype, 4),
        )


# Counting a shape builds an empty copy of the model. Snakemake asks for each model's in every rule's resources when
# it reads the Snakefile, and w2s plan for every job: each is looked up once per process, and counted once per
# machine (w2s.pipeline.shape_store).
_SHAPES: dict[str, tuple[Shape, int] | None] = {}


def model_shape(config: dict, model: str, outputs: int = 2) -> tuple[Shape, int] | None:
    """stored_shape, once per process for a model entry (and the entries it refers to) and head; a model not to be
    had offline is asked for again (it may have been fetched since)."""
    key = json.dumps([model, outputs, config["models"]], sort_keys=True, default=str)
    if _SHAPES.get(key) is None:
        _SHAPES[key] = stored_shape(config, model, outputs)
    return _SHAPES[key]


def stored_shape(config: dict, model: str, outputs: int = 2) -> tuple[Shape, int] | None:
    """count_shape, read from the shape store where a process counted it before, else counted and stored."""
    digest = shape_digest(config, model, outputs)
    record = read_record(digest) if digest else None
    if record is not None:
        try:
            return Shape(**record["shape"]), int(record["stored"])
        except (TypeError, KeyError, ValueError):
            pass  # not a record of this version's Shape: count again
    counted = count_shape(config, model, outputs)
    if counted is not None and digest:
        write_record(digest, {"shape": asdict(counted[0]), "stored": counted[1]})
    return counted


def built_tokenizer_and_window(config: dict, entry: dict) -> tuple:
    """The tokenizer and context window of a model its job makes: bytes and the entry's window for `build`; for
    `pretrain`, its world's (w2s.data.world.pretraining_tokenizer_and_window)."""
    from w2s.data.tokenizers import byte_tokenizer
    from w2s.data.world import pretraining_tokenizer_and_window

    if "build" in entry:
        return byte_tokenizer(), entry["build"].get("max_position", 256)
    return pretraining_tokenizer_and_window(config["worlds"][entry["pretrain"]["world"]])


def count_shape(config: dict, model: str, outputs: int = 2) -> tuple[Shape, int] | None:
    """The model's shape (Shape: its parameters with a head of `outputs` outputs, those that
    train, its widths), and the parameters its checkpoint stores (all, or with LoRA the adapters and head), counted
    on an empty (meta-device) copy of the model; None where its config cannot be had offline."""
    import torch
    from transformers import AutoConfig, AutoModel

    from w2s.models.build import model_config
    from w2s.models.lora import add_adapters, lora_config
    from w2s.models.tokens import capped_length

    entry = config["models"][model]
    own = (
        config["models"][entry["backbone"]] if "backbone" in entry else entry
    )  # the entry that gives the model
    shape = own.get("build") or own.get("pretrain")
    if shape:
        tokenizer, window = built_tokenizer_and_window(config, own)
        lm_config = model_config(
            shape["arch"],
            shape["hidden_size"],
            shape["num_layers"],
            shape["num_heads"],
            window,
            tokenizer,
        )
    else:
        try:
            name, revision = split_revision(model_source(config, model))
            lm_config = AutoConfig.from_pretrained(
                name,
                revision=revision,
                local_files_only=True,
                trust_remote_code=entry["trust_remote_code"],
            )
        except (OSError, ValueError):
            return None
    context = capped_length(lm_config, entry["max_length"])
    with torch.device("meta"):
        backbone = AutoModel.from_config(lm_config, trust_remote_code=entry["trust_remote_code"])
        head = outputs * (lm_config.hidden_size + 1)
        own = sum(p.numel() for p in backbone.parameters())
        total = own + head
        if "lora" not in entry:
            return Shape.of(lm_config, total, total, context, own), total
        add_adapters(backbone, lora_config(entry["lora"], model))
        adapters = sum(p.numel() for p in backbone.parameters() if p.requires_grad)
    return Shape.of(lm_config, total + adapters, adapters + head, context, own), adapters + head
