"""Tokenizers that need no training data or download: bytes for built models, one token per word for a synthetic
world's vocabulary. Both are Hugging Face fast tokenizers, saved and loaded by path like a hub model's."""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

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
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, eos_token=EOS, bos_token=EOS
    )


def word_tokenizer(vocabulary: list[str], pattern: str) -> PreTrainedTokenizerFast:
    """One token per vocabulary word, words split out of the text by the regex `pattern` (e.g. a synthetic world's
    entity names and single characters), plus pad and end-of-text."""
    from tokenizers import Regex

    vocab = {word: i for i, word in enumerate([*vocabulary, PAD, EOS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=EOS))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(pattern), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, eos_token=EOS, bos_token=EOS, unk_token=EOS
    )
