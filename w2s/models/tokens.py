"""Tokenising texts for classification and padding them into minibatches.

Length policy: a text longer than the model's `max_length` tokens keeps its *last* max_length tokens (the question's
end and the answer under judgement sit at the end in every task format). Every model of a grid is then scored on the
same examples, which PGR needs; the reference code instead drops long examples, which changes the test set per
model. The number of truncated examples is reported in each run's metrics.

Special tokens are added as the tokenizer's own default does (and as the reference code does): e.g. Llama-style
tokenizers start each text with BOS, GPT-2's adds nothing. They are kept when a text is truncated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from w2s.columns import COMPLETIONS
from w2s.errors import W2SError


def capped_length(model_config, requested: int) -> int:
    """`requested` tokens, capped at the context window a model's config states (where it states one)."""
    window = getattr(model_config, "max_position_embeddings", None) or getattr(
        model_config, "n_positions", None
    )
    return min(requested, window) if window else requested


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer adds before and after a text by default (e.g. ([BOS], []) for Llama, ([], []) for
    GPT-2)."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    start = next(i for i in range(len(full) - len(plain) + 1) if full[i : i + len(plain)] == plain)
    return full[:start], full[start + len(plain) :]


def encode(texts: list[str], tokenizer, max_length: int) -> tuple[list[list[int]], int]:
    """Token ids per text with the tokenizer's special tokens, the text's own tokens truncated from the left so that
    a row has at most `max_length` ids; also the count of truncated texts."""
    rows, truncated = encode_rows(texts, tokenizer, max_length)
    return rows, sum(truncated)


def encode_rows(texts: list[str], tokenizer, max_length: int) -> tuple[list[list[int]], list[bool]]:
    """`encode`, with whether each text was truncated."""
    before, after = special_tokens(tokenizer)
    budget = max_length - len(before) - len(after)
    if budget < 1:
        raise W2SError(
            f"max_length {max_length} leaves no room for text besides {len(before) + len(after)} "
            "special tokens"
        )
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return [before + row[-budget:] + after for row in ids], [len(row) > budget for row in ids]


@dataclass(frozen=True)
class Pair:
    """A comparison's two token rows (prefix + completion a, prefix + completion b), run in one forward batch."""

    a: list[int]
    b: list[int]

    def __len__(self) -> int:
        """What the pair costs in a padded batch: two rows as long as the longer (length grouping reads this)."""
        return 2 * max(len(self.a), len(self.b))


def encode_pairs(
    prefixes: list[str],
    completions_a: list[str],
    completions_b: list[str],
    tokenizer,
    max_length: int,
) -> tuple[list[Pair], int]:
    """A comparison's transcripts (prefix + completion) as token rows, each truncated as `encode` truncates; also
    the count of pairs with a truncated transcript."""
    a, cut_a = encode_rows(
        [p + c for p, c in zip(prefixes, completions_a, strict=True)], tokenizer, max_length
    )
    b, cut_b = encode_rows(
        [p + c for p, c in zip(prefixes, completions_b, strict=True)], tokenizer, max_length
    )
    return [Pair(x, y) for x, y in zip(a, b)], sum(x or y for x, y in zip(cut_a, cut_b))


def encode_split(frame, tokenizer, max_length: int) -> tuple[list, int]:
    """A split's examples (a polars frame) as token rows, and the count truncated: its texts, or for comparisons
    (w2s.data.pairs) its pairs of transcripts."""
    if COMPLETIONS[0] in frame.columns:
        a, b = (frame[c].to_list() for c in COMPLETIONS)
        return encode_pairs(frame["text"].to_list(), a, b, tokenizer, max_length)
    return encode(frame["text"].to_list(), tokenizer, max_length)


def batch_rows(examples: list) -> list[list[int]]:
    """The token rows a minibatch of examples runs as: each its own row, or for comparisons every pair's first
    transcript, then every pair's second (w2s.models.reward splits the batch in these halves)."""
    if examples and isinstance(examples[0], Pair):
        return [pair.a for pair in examples] + [pair.b for pair in examples]
    return examples


def pad_batch(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest row: (input_ids, attention_mask)."""
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return input_ids, mask


def encode_answers(
    prompts: list[str], answers: list[str], tokenizer, max_length: int, prefix: str, stop: str
) -> tuple[list[list[int]], list[int], int]:
    """A generative task's training rows: the prompt's ids (with the tokenizer's leading special tokens; truncated
    from the left) then the answer's, `prefix + answer + stop`; also each row's number of answer ids and the count
    of truncated prompts. The answer is tokenized on its own, as the model will write it after the prompt."""
    before, _ = special_tokens(tokenizer)
    answer_ids = tokenizer([f"{prefix}{a}{stop}" for a in answers], add_special_tokens=False)[
        "input_ids"
    ]
    prompt_ids = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    rows, truncated = [], 0
    for prompt, answer in zip(prompt_ids, answer_ids, strict=True):
        budget = max_length - len(before) - len(answer)
        if budget < 1:
            raise W2SError(
                f"max_length {max_length} leaves no room for a prompt besides the answer's {len(answer)} "
                f"tokens ({tokenizer.decode(answer)!r})"
            )
        truncated += len(prompt) > budget
        rows.append(before + prompt[-budget:] + answer)
    return rows, [len(a) for a in answer_ids], truncated


def encode_prompts(prompts: list[str], tokenizer, max_length: int, room: int) -> tuple[list, int]:
    """Prompts to generate from: the tokenizer's leading special tokens and the prompt, truncated from the left to
    leave `room` tokens for the answer within `max_length`; also the count of truncated prompts."""
    before, _ = special_tokens(tokenizer)
    budget = max_length - len(before) - room
    if budget < 1:
        raise W2SError(
            f"max_length {max_length} leaves no room for a prompt and {room} answer tokens"
        )
    ids = tokenizer(list(prompts), add_special_tokens=False)["input_ids"]
    return [before + row[-budget:] for row in ids], sum(len(row) > budget for row in ids)
