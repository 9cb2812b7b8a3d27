"""A linear probe: the classifier's two-class head on a frozen backbone's cached last-token activations.

The probe takes part in the ordinary training loop, prediction and resuming as a model whose "tokens" are example
indices: example k of a split is the one-token row [offset + k] into a table of every split's activations, so that
the loop's batching, losses (the logconf threshold included), evaluations and resumable state work unchanged, and
only the head's weights are parameters. Its checkpoint is an ordinary classifier checkpoint (the backbone's files,
linked where the filesystem allows, and the trained head), so everything that loads a checkpoint loads it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from w2s.errors import W2SError
from w2s.models.backbone import substate
from w2s.models.classifier import HEAD_FILE

FEATURES = "features"  # the tensor's name in an activations file


def read_activations(path, rows: int) -> torch.Tensor:
    """An activations file's [rows, hidden] features, checked against the split it was computed from."""
    try:
        features = load_file(path)[FEATURES]
    except Exception as exc:  # safetensors raises its own types for a truncated or foreign file
        raise W2SError(
            f"{path} cannot be read as activations ({exc}); delete it and rerun snakemake, which makes it "
            "again"
        ) from None
    if features.ndim != 2 or features.shape[0] != rows or not torch.isfinite(features).all():
        raise W2SError(
            f"{path} holds activations of shape {tuple(features.shape)} (all finite: "
            f"{bool(torch.isfinite(features).all())}), not {rows} rows of finite numbers: delete it and "
            "rerun snakemake, which makes it again"
        )
    return features


def truncated_texts(path) -> int:
    """How many of the split's texts were truncated before their activations were computed."""
    with safe_open(path, "pt") as handle:
        return int((handle.metadata() or {}).get("n_truncated", 0))


class LinearProbe(nn.Module):
    def __init__(self, splits: dict[str, torch.Tensor], head_init: str = "zero"):
        super().__init__()
        hidden = {features.shape[1] for features in splits.values()}
        if len(hidden) != 1:
            raise W2SError(
                f"activations of one backbone must share their width; found {sorted(hidden)}"
            )
        self.head = nn.Linear(hidden.pop(), 2, dtype=torch.float32)
        if head_init == "zero":  # the reference recipe, as for finetuning
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        elif head_init != "random":
            raise W2SError(f"a linear probe's head_init is zero or random, not {head_init!r}")
        self.offsets, start = {}, 0
        for name, features in splits.items():
            self.offsets[name] = (start, len(features))
            start += len(features)
        self.table = torch.cat(
            list(splits.values())
        )  # not a buffer: the resumable state holds the head only

    def ids(self, split: str) -> list[list[int]]:
        """The one-token rows that stand for the split's examples."""
        start, rows = self.offsets[split]
        return [[start + k] for k in range(rows)]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.table[input_ids[:, 0].cpu()].to(input_ids.device))

    def save(
        self, out_dir: str | Path, backbone_dir: str | Path, state: dict | None = None
    ) -> None:
        """A classifier checkpoint: the backbone's files (hard links where possible: the backbone is frozen, so
        they are its bytes) and the trained head (from `state`, this module's state dict, where given)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True)
        for file in Path(backbone_dir).iterdir():
            # Not hidden files: Snakemake's .snakemake_timestamp of a directory output, linked, would be touched
            # when the checkpoint is finished and make the backbone look newer than all that was made from it.
            if file.is_file() and file.name != HEAD_FILE and not file.name.startswith("."):
                try:
                    os.link(file.resolve(), out_dir / file.name)
                except OSError:  # another filesystem, or links not allowed
                    shutil.copy2(file, out_dir / file.name)
        head = substate(state, "head.") if state is not None else self.head.state_dict()
        save_file({k: v.contiguous() for k, v in head.items()}, out_dir / HEAD_FILE)
