"""LoRA adapters (peft) on a classifier's backbone, and their checkpoint format.

With `lora` on a model entry the backbone's weights stay frozen; low-rank adapters on its target layers and the
two-class head train. The checkpoint then holds only what trained, beside a record of the model it adapts:

    adapter_config.json         peft's LoRA config (peft can load the adapter onto the base model by itself)
    adapter_model.safetensors   the adapters' weights
    head.safetensors            the head
    base_model.json             the base model: its path or hub id and the identity of its files
    tokenizer files

`Classifier.load` recognises such a directory and rebuilds the model from the base it names, refusing a base
whose files changed since the adapters were trained on it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from w2s.errors import W2SError
from w2s.models.paths import source_identity
from w2s.version import BASE_FILE

ADAPTER_FILE = "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."  # where peft's own PeftModel keeps the model it adapts: its files' key prefix


def is_adapter_checkpoint(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_FILE).is_file() and (Path(path) / BASE_FILE).is_file()


def lora_config(settings: dict, source: str):
    """peft's config from a model entry's `lora` settings (r, alpha, dropout, target_modules). No target modules
    means peft's default for the architecture (GPT-2's c_attn, Llama's q_proj and v_proj, ...)."""
    from peft import LoraConfig

    return LoraConfig(
        r=settings["r"],
        lora_alpha=settings["alpha"],
        lora_dropout=settings["dropout"],
        target_modules=settings.get("target_modules"),
        base_model_name_or_path=source,
    )


def add_adapters(backbone: nn.Module, config) -> nn.Module:
    """Freeze `backbone` and put adapters on its target layers, in place (they are the only trainable weights)."""
    from peft import inject_adapter_in_model

    try:
        with (
            warnings.catch_warnings()
        ):  # GPT-2's Conv1D layers: peft transposes for them, and says so each time
            warnings.filterwarnings("ignore", "fan_in_fan_out is set to False", UserWarning)
            return inject_adapter_in_model(config, backbone)
    except ValueError as exc:  # peft: target modules not found, or no default for this architecture
        raise W2SError(
            f"lora: cannot add adapters to {type(backbone).__name__} ({exc}); set lora.target_modules "
            "to names of its linear layers"
        ) from None


def adapter_state(backbone: nn.Module, state: dict | None = None) -> dict[str, torch.Tensor]:
    """The adapters' weights under peft's names, from `state` (the backbone's state dict, or the part of it that
    holds the adapters) where given, else from the backbone."""
    from peft import get_peft_model_state_dict

    return get_peft_model_state_dict(backbone, state_dict=state)


def save_adapters(out_dir: Path, backbone: nn.Module, config, state: dict | None = None) -> None:
    """The adapter files and the base model's record (the head and tokenizer are the caller's)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(out_dir)
    save_file(
        {
            PEFT_PREFIX + k: v.detach().cpu().contiguous()
            for k, v in adapter_state(backbone, state).items()
        },
        out_dir / ADAPTER_FILE,
    )
    source = config.base_model_name_or_path
    (out_dir / BASE_FILE).write_text(
        json.dumps({"source": source, "identity": source_identity(source)}, indent=1)
    )


def read_base(path: str | Path) -> str:
    """The base model an adapter checkpoint was trained on, checked to be unchanged since."""
    record = json.loads((Path(path) / BASE_FILE).read_text())
    now = source_identity(record["source"])
    if now != record["identity"]:
        raise W2SError(
            f"{path}: its adapters were trained on base model {record['source']!r} with identity "
            f"{record['identity'][:16]}..., but that model's files now give {now[:16]}...; the adapters "
            "would run on other weights. Restore that base model, or retrain (delete the checkpoint and "
            "rerun snakemake)"
        )
    return record["source"]


def load_adapters(backbone: nn.Module, path: str | Path) -> None:
    """Put the adapters of checkpoint `path` on `backbone` (a fresh load of its base model)."""
    from peft import LoraConfig, set_peft_model_state_dict

    add_adapters(backbone, LoraConfig.from_pretrained(str(path)))
    weights = {
        k.removeprefix(PEFT_PREFIX): v for k, v in load_file(Path(path) / ADAPTER_FILE).items()
    }
    result = set_peft_model_state_dict(backbone, weights)
    if result.unexpected_keys:
        raise W2SError(
            f"{path}: {ADAPTER_FILE} holds weights its adapter config does not place, e.g. "
            f"{result.unexpected_keys[0]!r}"
        )
