"""Gradient checkpointing: real recomputation in the mode w2s trains in (eval mode when dropout is off), the same
update, and far less kept for the backward pass."""

from __future__ import annotations

import copy

import pytest
import torch
from snakemake_helpers import train_settings

from w2s.models.build import build_model
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.recompute import recompute_layers
from w2s.models.tokens import encode
from w2s.training.loop import train
from w2s.training.losses import XentLoss


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def four_layers(request, tmp_path_factory):
    path = build_model(
        tmp_path_factory.mktemp(request.param) / "model",
        request.param,
        hidden_size=32,
        num_layers=4,
        num_heads=2,
        max_position=64,
        seed=0,
    )
    tokenizer = load_tokenizer(str(path))
    ids, _ = encode([f"example number {i} " * (1 + i % 3) for i in range(12)], tokenizer, 48)
    return path, ids, tokenizer.pad_token_id


def kept_bytes(model, ids, pad_id) -> int:
    """Bytes of the tensors autograd keeps for the backward pass during one training forward (eval mode)."""
    from w2s.training.runtime import minibatch_logits

    kept = []

    def pack(tensor):
        kept.append(tensor.numel() * tensor.element_size())
        return tensor

    model.eval()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        logits = minibatch_logits(
            model, ids, list(range(len(ids))), pad_id, torch.device("cpu"), False
        )
    logits.sum().backward()
    return sum(kept)


def test_recomputed_layers_keep_far_less_for_the_backward_pass(four_layers):
    path, ids, pad_id = four_layers
    plain, recomputed = Classifier.load(str(path)), Classifier.load(str(path))
    assert recompute_layers(recomputed.backbone) == 4
    without, with_ = kept_bytes(plain, ids, pad_id), kept_bytes(recomputed, ids, pad_id)
    assert with_ < without / 3, (with_, without)


def test_recomputed_layers_give_the_same_update(four_layers):
    path, ids, pad_id = four_layers
    targets = torch.tensor([i % 2 for i in range(len(ids))], dtype=torch.float32)
    settings = train_settings(
        lr=1e-3, batch_size=6, minibatch_size=3, epochs=2, seed=0, autocast="off"
    )
    trained = []
    for recompute in (False, True):
        torch.manual_seed(0)
        model = Classifier.load(str(path), head_init="random")
        if recompute:
            recompute_layers(model.backbone)
        train(model, ids, targets, XentLoss(), copy.copy(settings), pad_id)
        trained.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    assert max((trained[0][k] - trained[1][k]).abs().max().item() for k in trained[0]) == 0.0
