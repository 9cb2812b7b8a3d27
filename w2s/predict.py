"""Batched inference: p(label = 1) for each tokenised example."""

from __future__ import annotations

import numpy as np
import torch

from w2s.train import bf16_enabled, device, minibatch_logits


@torch.no_grad()
def predict_p1(model, ids: list[list[int]], pad_id: int, batch_size: int = 64, autocast: str = "auto") -> np.ndarray:
    """Probabilities in input order; batches are formed by length so little compute goes to padding."""
    dev = device()
    bf16 = bf16_enabled(autocast, dev)
    was_training = model.training
    model.to(dev).eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    p1 = np.empty(len(ids), dtype=np.float64)
    for first in range(0, len(order), batch_size):
        index = order[first : first + batch_size]
        logits = minibatch_logits(model, ids, index, pad_id, dev, bf16)
        p1[index] = torch.softmax(logits.float(), dim=-1)[:, 1].cpu().numpy()
    model.train(was_training)
    return p1
