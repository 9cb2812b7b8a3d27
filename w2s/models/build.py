"""Randomly initialised causal LMs built from a config, with the byte-level tokenizer (w2s.data.tokenizers).

They are what the default experiment and the tests run on: no download, any size, and saved as ordinary Hugging
Face checkpoints so that every later stage loads them by path like a hub model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM

from w2s.data.tokenizers import byte_tokenizer
from w2s.errors import W2SError
from w2s.io import atomic_path

ARCHS = ("gpt2", "gpt_neox", "llama", "qwen2")


def arch_config(
    arch: str,
    hidden_size: int,
    num_layers: int,
    num_heads: int,
    max_position: int,
    vocab_size: int,
    special_ids: dict[str, int],
):
    """A transformers config for `arch` with the given shape; dropout off so tiny runs are deterministic to tune."""
    ffn = 4 * hidden_size
    if arch == "gpt2":
        shape = dict(
            n_embd=hidden_size,
            n_layer=num_layers,
            n_head=num_heads,
            n_positions=max_position,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
        )
    elif arch == "gpt_neox":
        shape = dict(
            hidden_size=hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            intermediate_size=ffn,
            max_position_embeddings=max_position,
        )
    elif arch in ("llama", "qwen2"):
        shape = dict(
            hidden_size=hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            num_key_value_heads=num_heads,
            intermediate_size=ffn,
            max_position_embeddings=max_position,
        )
    else:
        raise W2SError(f"build.arch: unknown architecture {arch!r}; expected one of {list(ARCHS)}")
    return AutoConfig.for_model(arch, vocab_size=vocab_size, **special_ids, **shape)


def model_config(
    arch: str, hidden_size: int, num_layers: int, num_heads: int, max_position: int, tokenizer
):
    """`arch_config` for a model that reads `tokenizer`: its vocabulary size and special token ids."""
    special = dict(
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    return arch_config(
        arch, hidden_size, num_layers, num_heads, max_position, len(tokenizer), special
    )


def random_model(
    arch: str,
    hidden_size: int,
    num_layers: int,
    num_heads: int,
    max_position: int,
    tokenizer,
    seed: int = 0,
):
    config = model_config(arch, hidden_size, num_layers, num_heads, max_position, tokenizer)
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def build_base_model(out_dir: str | Path, build: dict) -> None:
    """Rule build_base_model: `build_model` into `out_dir`, which appears only once complete."""
    with atomic_path(out_dir) as tmp:
        build_model(tmp, **build)
    print(f"built {build} into {out_dir}", flush=True)


def build_model(
    out_dir: str | Path,
    arch: str,
    hidden_size: int,
    num_layers: int,
    num_heads: int,
    max_position: int = 256,
    seed: int = 0,
) -> Path:
    """Build, seed and save a random causal LM and its byte tokenizer to `out_dir`; return the path."""
    tokenizer = byte_tokenizer()
    model = random_model(arch, hidden_size, num_layers, num_heads, max_position, tokenizer, seed)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
