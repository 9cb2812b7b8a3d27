"""Randomly initialised causal LMs built from a config, with a byte-level tokenizer that needs no training.

They are what the default experiment and the tests run on: no download, any size, and saved as ordinary Hugging
Face checkpoints so that every later stage loads them by path like a hub model.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedTokenizerFast

from w2s.errors import W2SError

PAD, EOS = "<|pad|>", "<|endoftext|>"


def byte_tokenizer() -> PreTrainedTokenizerFast:
    """256 byte tokens (GPT-2's byte-to-unicode alphabet, no merges) plus pad and end-of-text."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: i for i, symbol in enumerate(alphabet)}
    vocab.update({PAD: len(vocab), EOS: len(vocab) + 1})
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([PAD, EOS])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, bos_token=EOS)


def word_tokenizer(vocabulary: list[str], pattern: str) -> PreTrainedTokenizerFast:
    """One token per vocabulary word, words split out of the text by the regex `pattern` (e.g. a synthetic world's
    entity names and single characters), plus pad and end-of-text."""
    from tokenizers import Regex

    vocab = {word: i for i, word in enumerate([*vocabulary, PAD, EOS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=EOS))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD, eos_token=EOS, bos_token=EOS, unk_token=EOS)


ARCHS = ("gpt2", "gpt_neox", "llama", "qwen2")


def arch_config(arch: str, hidden_size: int, num_layers: int, num_heads: int, max_position: int, vocab_size: int,
                special_ids: dict[str, int]):
    """A transformers config for `arch` with the given shape; dropout off so tiny runs are deterministic to tune."""
    ffn = 4 * hidden_size
    if arch == "gpt2":
        shape = dict(n_embd=hidden_size, n_layer=num_layers, n_head=num_heads, n_positions=max_position,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    elif arch == "gpt_neox":
        shape = dict(hidden_size=hidden_size, num_hidden_layers=num_layers, num_attention_heads=num_heads,
                     intermediate_size=ffn, max_position_embeddings=max_position)
    elif arch in ("llama", "qwen2"):
        shape = dict(hidden_size=hidden_size, num_hidden_layers=num_layers, num_attention_heads=num_heads,
                     num_key_value_heads=num_heads, intermediate_size=ffn, max_position_embeddings=max_position)
    else:
        raise W2SError(f"build.arch: unknown architecture {arch!r}; expected one of {list(ARCHS)}")
    return AutoConfig.for_model(arch, vocab_size=vocab_size, **special_ids, **shape)


def random_model(arch: str, hidden_size: int, num_layers: int, num_heads: int, max_position: int, tokenizer,
                 seed: int = 0):
    special = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                   bos_token_id=tokenizer.bos_token_id)
    config = arch_config(arch, hidden_size, num_layers, num_heads, max_position, len(tokenizer), special)
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def build_model(out_dir: str | Path, arch: str, hidden_size: int, num_layers: int, num_heads: int,
                max_position: int = 256, seed: int = 0) -> Path:
    """Build, seed and save a random causal LM and its byte tokenizer to `out_dir`; return the path."""
    tokenizer = byte_tokenizer()
    model = random_model(arch, hidden_size, num_layers, num_heads, max_position, tokenizer, seed)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
