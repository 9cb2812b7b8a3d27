"""Mirrors of a run's trajectory for dashboards: TensorBoard event files in the run's folder, and optionally a
Weights & Biases run. `trajectory.jsonl` stays the record every analysis reads; these get the same points (their
numbers: not the packed test answers), and a resumed run writes its earlier points again, so each mirror holds the
whole trajectory. Changing them changes no result, so it reruns nothing.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from w2s.errors import W2SError

TENSORBOARD_DIR = (
    "tensorboard"  # in the run's folder: `tensorboard --logdir results` shows every run
)
WANDB_MODES = (
    "offline",
    "online",
)  # logging.wandb.mode (W&B's own "disabled": leave logging.wandb out)


def numbers(entry: dict) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in entry.items()
        if k != "step"
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
    }


class TensorBoard:
    def __init__(self, run_dir: str | Path):
        from torch.utils.tensorboard import SummaryWriter

        folder = Path(run_dir) / TENSORBOARD_DIR
        for old in folder.glob(
            "events.out.tfevents.*"
        ):  # an earlier attempt's: this one writes every point again
            old.unlink()
        self.writer = SummaryWriter(str(folder))

    def log(self, entry: dict) -> None:
        for key, value in numbers(entry).items():
            self.writer.add_scalar(key, value, entry["step"])
        self.writer.flush()  # each point is on disk as soon as it is logged, as in trajectory.jsonl

    def close(self) -> None:
        self.writer.close()


class WandB:
    """A W&B run named after the run's folder; offline (the default) it is written under the run's folder, for
    `wandb sync` later. Its id comes from the folder, so a resumed job continues the same W&B run."""

    def __init__(self, settings: dict, run_dir: str | Path, run_name: str, config: dict):
        try:
            import wandb
        except ImportError:
            raise W2SError(
                "config key logging.wandb: the wandb package is not installed (pip install wandb), or "
                "drop logging.wandb"
            ) from None
        self.run = wandb.init(
            project=settings["project"],
            entity=settings.get("entity"),
            mode=settings["mode"],
            dir=str(run_dir),
            name=run_name,
            config=config,
            resume="allow",
            id=hashlib.sha256(run_name.encode()).hexdigest()[:16],
        )

    def log(self, entry: dict) -> None:
        self.run.log(numbers(entry), step=entry["step"])

    def close(self) -> None:
        self.run.finish()


def dashboards(settings: dict | None, run_dir: str | Path, run_name: str, config: dict) -> list:
    """The mirrors the config's `logging` asks for."""
    settings = settings or {}
    mirrors = []
    if settings.get("tensorboard"):
        mirrors.append(TensorBoard(run_dir))
    if settings.get("wandb"):
        mirrors.append(WandB(settings["wandb"], run_dir, run_name, config))
    return mirrors
