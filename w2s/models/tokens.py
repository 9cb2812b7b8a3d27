"""Tokenising texts for classification and padding them into minibatches.

Length policy: a text longer than the model's `max_length` tokens keeps its *last* max_length tokens (the question's
end and the answer under judgement sit at the end in every task format). Every model of a grid is then scored on the
same examples, which PGR needs; the reference code instead drops long examples, which changes the test set per
model. The number of truncated examples is reported in each run's metrics.
"""

from __future__ import annotations

import torch


def encode(texts: list[str], tokenizer, max_length: int) -> tuple[list[list[int]], int]:
    """Token ids per text, truncated from the left to `max_length`; also the count of truncated texts."""
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    truncated = sum(len(row) > max_length for row in ids)
    return [row[-max_length:] if len(row) > max_length else row for row in ids], truncated


def pad_batch(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to the longest row: (input_ids, attention_mask)."""
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return input_ids, mask
