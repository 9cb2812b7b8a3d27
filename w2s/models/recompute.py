"""Gradient checkpointing that holds whatever the module's mode: each layer of the backbone's stack keeps only its
inputs for the backward pass and recomputes its activations there. Hugging Face's own switch acts in train mode
only, and w2s trains in eval mode when dropout is off (the reference recipe), where it would do nothing."""

from __future__ import annotations

import functools

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from w2s.errors import W2SError


def layer_stack(backbone: nn.Module) -> nn.ModuleList:
    """The backbone's stack of transformer layers: its longest ModuleList (`h`, `layers`, ...)."""
    stacks = [module for module in backbone.modules() if isinstance(module, nn.ModuleList)]
    if not stacks:
        raise W2SError(
            f"gradient_checkpointing: {type(backbone).__name__} has no stack of layers (no ModuleList) "
            "to recompute"
        )
    return max(stacks, key=len)


def recompute_layers(backbone: nn.Module) -> int:
    """Wrap every layer of the stack so that, where gradients are on, its activations are recomputed in the
    backward pass instead of kept; returns the number of layers. Outside autograd (prediction) nothing changes."""
    stack = layer_stack(backbone)
    for layer in stack:
        layer.forward = functools.partial(_checkpointed, layer.forward)
    return len(stack)


def _checkpointed(forward, *args, **kwargs):
    if not torch.is_grad_enabled():
        return forward(*args, **kwargs)
    # non-reentrant: keyword arguments, outputs of any structure, and parameters' gradients without
    # requires_grad inputs; the RNG state is replayed, so dropout masks match between the two passes
    return checkpoint(forward, *args, use_reentrant=False, **kwargs)
