"""Batched inference: p(label = 1) for each tokenised example.

Under a DeepSpeed launcher every process calls this with the same examples; each predicts its share and the shares
are summed across processes, so the work is split rather than repeated.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

from w2s.models.tokens import pad_batch
from w2s.training.runtime import (
    bf16_enabled,
    device,
    minibatch_logits,
    rank_and_world,
    rank_minibatches,
)


@torch.no_grad()
def predict_p1(
    model,
    ids: list[list[int]],
    pad_id: int,
    batch_size: int = 64,
    autocast: str = "auto",
    answer_lengths: list[int] | None = None,
) -> np.ndarray:
    """Probabilities in input order; batches are formed by length so little compute goes to padding. With a
    generative task's `answer_lengths` (w2s.models.answerer), each row's p(1) is the probability of its answer."""
    dev = device()
    bf16 = bf16_enabled(autocast, dev)
    rank, world = rank_and_world()
    was_training = model.training
    model.to(dev).eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    p1 = torch.zeros(len(ids), dtype=torch.float64, device=dev)
    # Every process runs the same number of forward passes (ZeRO-3 gathers weights collectively in each); one
    # whose share has run out predicts a stand-in row and discards it.
    lengths = [len(row) for row in ids]
    budget = batch_size * max(
        lengths, default=1
    )  # tokens: batch_size rows of the longest, more of short ones
    for index in rank_minibatches(order, batch_size, rank, world, lengths, budget=budget):
        logits = minibatch_logits(model, ids, index or order[:1], pad_id, dev, bf16, answer_lengths)
        if index:
            p1[index] = torch.softmax(logits.float(), dim=-1)[:, 1].double()
    if world > 1:
        dist.all_reduce(p1)  # each example was predicted by exactly one process; the others add 0
    model.train(was_training)
    return p1.cpu().numpy()


@torch.no_grad()
def last_token_features(
    model, ids: list[list[int]], pad_id: int, batch_size: int = 64, autocast: str = "auto"
) -> torch.Tensor:
    """Each example's final hidden state at its last real token (`Classifier.features`), float32, in input order;
    batched by length like `predict_p1`. One process: a linear probe's activations are computed once, by one job."""
    dev = device()
    bf16 = bf16_enabled(autocast, dev)
    model.to(dev).eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    features = None
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        input_ids, mask = pad_batch([ids[i] for i in index], pad_id)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            batch = model.features(input_ids.to(dev), mask.to(dev)).float().cpu()
        if features is None:
            features = torch.zeros(len(ids), batch.shape[1])
        features[index] = batch
    return features
