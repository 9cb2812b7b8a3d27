"""What the classifier and the answer model share: a Hugging Face backbone, LoRA adapters on it (w2s.models.lora),
its context window, and how its weights are saved (an ordinary Hugging Face model directory, or the adapters)."""

from __future__ import annotations

import inspect
from pathlib import Path

from torch import nn

from w2s.models import lora
from w2s.models.activations import fuse_activations
from w2s.models.tokens import capped_length


class BackboneModel(nn.Module):
    def __init__(self, backbone: nn.Module):
        super().__init__()
        fuse_activations(backbone)
        self.backbone = backbone
        self.takes_use_cache = "use_cache" in inspect.signature(backbone.forward).parameters
        self.lora = None  # peft's LoRA config once adapters are added

    def add_lora(self, settings: dict, source: str) -> int:
        """Freeze the backbone and add LoRA adapters (a model entry's `lora` settings) to it, on base model
        `source`; returns the number of trainable parameters (the adapters, and a classifier's head)."""
        self.lora = lora.lora_config(settings, source)
        lora.add_adapters(self.backbone, self.lora)
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def max_tokens(self, requested: int) -> int:
        """`requested`, capped at the backbone's context window where its config states one."""
        return capped_length(self.backbone.config, requested)

    def save_backbone(self, out_dir: Path, state: dict | None) -> None:
        """The backbone as a Hugging Face model (or, with LoRA, its adapters), from `state` (this module's state
        dict, e.g. gathered from ZeRO-3 partitions; with LoRA its trained entries suffice) where given."""
        backbone = substate(state, "backbone.") if state is not None else None
        if self.lora:
            lora.save_adapters(out_dir, self.backbone, self.lora, backbone)
        else:
            self.backbone.save_pretrained(out_dir, state_dict=backbone, safe_serialization=True)


def substate(state: dict, prefix: str) -> dict:
    """The entries of a state dict under `prefix`, with the prefix taken off."""
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}
