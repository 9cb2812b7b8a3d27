"""Which training examples each optimizer step takes (a pure function of seed, epoch and step, so a resumed run
needs no generator state), and how a step's examples are cut into minibatches, grouped by length or not."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch

from w2s.training.runtime import minibatch_logits, rank_minibatches
from w2s.training.settings import TrainSettings


@lru_cache(maxsize=2)
def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The example order of one epoch: depends on (seed, epoch) only, so a resumed run needs no generator state."""
    return torch.randperm(
        n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)
    ).tolist()


# What a forward and backward pass costs beyond its tokens, in tokens' worth, when grouping by length decides where
# to cut a batch (by device and bf16 autocast). On a CPU a few dozen: measured on a GPT-2 of hidden 256 x 4 layers,
# one thread, a pass costs 8 ms plus 0.29 ms a token in fp32 (28 tokens' worth), 9 ms plus 0.19 ms in bf16 (which
# casts the weights in every pass: 46), and a pass of fewer rows is as fast per token; so short examples are rarely
# padded to long ones. On a GPU a pass of few rows leaves the device idle: passes are as few as the token budget
# (minibatch_size rows of the longest example) allows, many short rows to a pass.
FORWARD_OVERHEAD_TOKENS = {
    ("cpu", False): 32,
    ("cpu", True): 48,
    ("cuda", False): 1 << 20,
    ("cuda", True): 1 << 20,
}


@dataclass
class Examples:
    """The tokenised training examples, their targets, and how to run them through the model."""

    ids: list[list[int]]
    targets: torch.Tensor
    pad_id: int
    device: torch.device
    bf16: bool
    answer_lengths: list[int] | None = (
        None  # a generative task's: its rows end in an answer of this many tokens
    )

    def logits(self, model, index: list[int]) -> torch.Tensor:
        return minibatch_logits(
            model, self.ids, index, self.pad_id, self.device, self.bf16, self.answer_lengths
        )

    def __post_init__(self):
        self.lengths = [len(row) for row in self.ids]
        self.longest = max(self.lengths, default=1)

    def by_length(self, index: list[int]) -> list[int]:
        """`index` ordered by length (stable: examples of equal length keep their order)."""
        return sorted(index, key=self.lengths.__getitem__)

    def minibatches(
        self, batch: list[int], size: int, rank: int, world: int, group: bool
    ) -> list[list[int]]:
        """This rank's minibatches of `batch`: as the batch comes, or grouped by length (`length_groups`)."""
        if not group:
            return rank_minibatches(batch, size, rank, world)
        return rank_minibatches(
            self.by_length(batch),
            size,
            rank,
            world,
            self.lengths,
            FORWARD_OVERHEAD_TOKENS[self.device.type, self.bf16],
            size * self.longest,
        )


@dataclass
class Schedule:
    """Which examples each optimizer step takes."""

    n: int
    settings: TrainSettings

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.n / self.settings.batch_size)

    @property
    def total(self) -> int:
        return self.steps_per_epoch * self.settings.epochs

    def batch(self, step: int) -> list[int]:
        epoch, position = divmod(step, self.steps_per_epoch)
        size = self.settings.batch_size
        return epoch_order(self.n, self.settings.seed, epoch)[
            position * size : (position + 1) * size
        ]
