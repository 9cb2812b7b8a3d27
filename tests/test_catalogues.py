"""Every choice the config schema offers is one the code implements, and the other way round: the schema's enums
equal the code's registries, so a new loss, dataset kind or architecture cannot be added to one and not the other."""

from __future__ import annotations

import yaml
from snakemake_helpers import REPO

from w2s.analysis.early_stops import REPORTED
from w2s.data.registry import KINDS
from w2s.data.world import WORLDS
from w2s.models.build import ARCHS
from w2s.models.classifier import DTYPES, HEAD_INITS
from w2s.pipeline.ensembles import WEIGHTINGS
from w2s.pipeline.grid import MODES
from w2s.training.dashboards import WANDB_MODES
from w2s.training.distributed import ZERO_STAGES
from w2s.training.losses import LOSSES, LogConfLoss
from w2s.training.runtime import AUTOCAST, DROPOUT
from w2s.training.settings import OPTIMIZERS, SCHEDULES

CATALOGUES = {
    "worlds.type": WORLDS,
    "datasets.kind": KINDS,
    "models.build.arch": ARCHS,
    "models.pretrain.arch": ARCHS,
    "models.dtype": DTYPES,
    "models.head_init": HEAD_INITS,
    "models.deepspeed.stage": ZERO_STAGES,
    "training.optimizer": OPTIMIZERS,
    "training.schedule": SCHEDULES,
    "training.autocast": AUTOCAST,
    "training.dropout": DROPOUT,
    "training.early_stopping": tuple(REPORTED),
    "models.mode": MODES,
    "logging.wandb.mode": WANDB_MODES,
    "ensembles.weighting": WEIGHTINGS,
}


def schema_enums(node: dict, path: tuple = ()) -> dict[str, list]:
    """Config key -> the enum the schema allows there; named entries are left out of the key (models.<name>.dtype
    is models.dtype)."""
    enums = {".".join(path): node["enum"]} if "enum" in node else {}
    for key, child in node.get("properties", {}).items():
        enums.update(schema_enums(child, path + (key,)))
    if isinstance(node.get("additionalProperties"), dict):
        enums.update(schema_enums(node["additionalProperties"], path))
    return enums


def test_schema_enums_equal_the_code_registries():
    enums = schema_enums(yaml.safe_load((REPO / "w2s/pipeline/config.schema.yaml").read_text()))
    assert enums.keys() == CATALOGUES.keys()
    for key, registry in CATALOGUES.items():
        assert sorted(enums[key], key=str) == sorted(registry, key=str), key


def test_loss_options_are_the_loss_classes_parameters():
    """The config checks a loss entry against its class's `options`: they must be what the class takes, each with
    a description, and the loss types one per module of w2s/training/losses/."""
    import inspect

    for name, cls in LOSSES.items():
        taken = set(inspect.signature(cls).parameters) - {
            "args",
            "kwargs",
        }  # XentLoss: object.__init__
        assert set(cls.options) == taken, name
        assert all(option.get("description") for option in cls.options.values()), name
    modules = {p.stem for p in (REPO / "w2s/training/losses").glob("*.py")} - {"__init__", "base"}
    assert {cls.__module__.rsplit(".", 1)[1] for cls in LOSSES.values()} == modules
    assert LogConfLoss.options["alpha_schedule"]["enum"] == list(LogConfLoss.SCHEDULES)
