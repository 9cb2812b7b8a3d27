"""Training losses over a two-class head: soft-label cross-entropy and the weak-to-strong variants, one module
each (a new loss is one module here and a config entry: its class registers by subclassing Loss).

Every loss takes logits [B, 2], the targets' p(label = 1) [B], and a `LossContext` holding what the training loop
knows: progress through training, and (for losses that need it) a statistic of the *whole* batch, computed once
per optimizer step so that gradient accumulation over minibatches does not change the loss.
"""

from __future__ import annotations

import importlib
import pkgutil

from w2s.errors import W2SError
from w2s.training.ground_truth import OPTION
from w2s.training.losses.base import Loss, LossContext, as_two_class, soft_cross_entropy

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def _subclasses(cls: type) -> list[type]:
    return [sub for child in cls.__subclasses__() for sub in (child, *_subclasses(child))]


LOSSES: dict[str, type[Loss]] = {cls.type: cls for cls in _subclasses(Loss)}
# the classes, by name, for callers that build one directly
XentLoss, LogConfLoss, ProductLoss = LOSSES["xent"], LOSSES["logconf"], LOSSES["product"]


def make_loss(name: str, entry: dict):
    """Build the loss a config entry `losses.<name>: {type: ..., <params>}` describes."""
    params = {
        k: v for k, v in entry.items() if k not in ("type", OPTION)
    }  # the budget is not the loss's
    kind = entry.get("type", name)
    if kind not in LOSSES:
        raise W2SError(
            f"losses.{name}.type: unknown loss {kind!r}; expected one of {sorted(LOSSES)}"
        )
    try:
        return LOSSES[kind](**params)
    except (TypeError, ValueError) as exc:
        raise W2SError(
            f"losses.{name}: bad parameters {params} for loss type {kind!r}: {exc}"
        ) from exc


__all__ = [
    "LOSSES",
    "Loss",
    "LossContext",
    "LogConfLoss",
    "ProductLoss",
    "XentLoss",
    "as_two_class",
    "make_loss",
    "soft_cross_entropy",
]
