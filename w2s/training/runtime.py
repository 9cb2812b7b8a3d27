"""Where and in what precision the models compute, and how work is split over the processes of a DeepSpeed run:
shared by training, prediction and pretraining."""

from __future__ import annotations

import functools
import math
import os
import random
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from w2s.models.tokens import batch_rows, pad_batch
from w2s.training.gpus import claim_gpus


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def use_threads(threads: int) -> None:
    """A job's CPU threads (its `threads`, the CPUs it asked the cluster for), shared among the processes a
    launcher started on this node (torchrun's LOCAL_WORLD_SIZE): 4 processes of a 16-CPU job take 4 threads each,
    not 16 each on 16 cores."""
    torch.set_num_threads(max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE", 1))))


def device() -> torch.device:
    """The device every job computes on: the GPU where there is one (its fp32 matmuls in TF32, `allow_tf32`); in a
    local run on a machine with several, one no other job holds (w2s.training.gpus; a launched process computes on
    those its launcher took)."""
    if "LOCAL_RANK" not in os.environ and not torch.cuda.is_initialized():
        claim_gpus(1)
    if not torch.cuda.is_available():
        return torch.device("cpu")
    allow_tf32()
    return torch.device("cuda")


def allow_tf32() -> None:
    """fp32 matmuls and convolutions on CUDA in TF32 (10-bit mantissa, fp32 range): what is left in fp32 under bf16
    autocast (the fp32 head, a run with autocast off) runs on the tensor cores, at several times fp32's rate."""
    matmul = torch.backends.cuda.matmul
    if hasattr(
        matmul, "fp32_precision"
    ):  # torch 2.9 and later; mixing in the old flags is an error there
        matmul.fp32_precision = "tf32"
        torch.backends.cudnn.conv.fp32_precision = "tf32"
    else:
        matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True


AUTOCAST = ("auto", "bf16", "off")
DROPOUT = ("off", "model")


def training_mode(model: torch.nn.Module, dropout: str) -> None:
    """Dropout "off" trains in eval mode, as the reference code does: for these models the modes differ in dropout
    only, so the gradients are those of the deterministic forward pass."""
    model.train(dropout == "model")


def bf16_enabled(setting: str, dev: torch.device) -> bool:
    """autocast "auto" means bf16 where the device computes it natively: a GPU that supports it, or a CPU with
    bf16 instructions (AVX512-BF16 or AMX) that torch's vectorised kernels use. Elsewhere bf16 is emulated, and slower
    than fp32 (docs/benchmarks.md: 0.66x on a CPU without them, 1.32x on one with AVX512-BF16)."""
    if setting == "auto":
        return (
            dev.type == "cuda"
            and torch.cuda.is_bf16_supported()
            or dev.type == "cpu"
            and cpu_has_native_bf16()
        )
    return setting == "bf16"


NATIVE_BF16_FLAGS = (
    "avx512_bf16",
    "amx_bf16",
)  # /proc/cpuinfo flags of x86 CPUs with bf16 arithmetic


@functools.lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 instructions and torch uses its AVX-512 kernels (not, e.g., the portable ones
    that ATEN_CPU_CAPABILITY=default selects). Linux only: elsewhere fp32."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return False
    return bool(
        flags & set(NATIVE_BF16_FLAGS)
    ) and torch.backends.cpu.get_cpu_capability().startswith("AVX512")


def trained_names(model: torch.nn.Module) -> set[str] | None:
    """The state entries that training changes where some weights are frozen (LoRA: the adapters and the head),
    which are all that checkpoints and resumable states need to hold; None where every weight trains."""
    if all(p.requires_grad for p in model.parameters()):
        return None
    return {name for name, p in model.named_parameters() if p.requires_grad}


def trained_state(state: dict, names: set[str] | None) -> dict:
    return state if names is None else {k: v for k, v in state.items() if k in names}


def rank_and_world() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def rank_minibatches(
    batch: list[int],
    minibatch_size: int,
    rank: int,
    world: int,
    lengths: list[int] | None = None,
    overhead: int | None = None,
    budget: int | None = None,
) -> list[list[int]]:
    """This rank's share of a batch as minibatches; every rank gets the same count (some may be empty), because
    under ZeRO-3 each forward pass is a collective operation. Without `lengths`, consecutive runs of
    `minibatch_size`. With the examples' `lengths` (and a batch ordered by length), passes bounded by tokens, not
    rows: each holds rows while their count times the longest of them stays within `budget` tokens (the memory of
    minibatch_size rows of the longest example), cut where they compute the fewest tokens (`length_groups`, given
    a pass's `overhead`) or, without one, filled in order (`token_passes`)."""
    shares = [batch[r::world] for r in range(world)]
    if lengths is None:
        count = math.ceil(math.ceil(len(batch) / world) / minibatch_size)
        return [shares[rank][i * minibatch_size : (i + 1) * minibatch_size] for i in range(count)]
    budget = budget or minibatch_size * max(lengths[i] for i in batch)
    if overhead is None:
        groups = [token_passes(share, lengths, budget) for share in shares]
    else:
        groups = [length_groups(share, lengths, budget, overhead) for share in shares]
    return groups[rank] + [[] for _ in range(max(map(len, groups)) - len(groups[rank]))]


def token_passes(share: list[int], lengths: list[int], budget: int) -> list[list[int]]:
    """`share` (ordered by length) cut in order into passes of rows whose count times the longest of them stays
    within `budget` tokens (a row longer than that alone)."""
    passes: list[list[int]] = []
    for i in share:
        if passes and (len(passes[-1]) + 1) * lengths[i] <= budget:
            passes[-1].append(i)
        else:
            passes.append([i])
    return passes


def length_groups(
    share: list[int], lengths: list[int], budget: int, overhead: int
) -> list[list[int]]:
    """`share` (ordered by length) cut into consecutive minibatches within `budget` tokens (rows times the longest
    of them; one row at least) that compute the fewest tokens: a minibatch costs its size times its longest example
    (padding included), plus `overhead` tokens' worth for running a forward and backward pass at all. Dynamic
    programming over the cut points."""
    best, cut = [0.0] + [math.inf] * len(share), [0] * (len(share) + 1)
    for end in range(1, len(share) + 1):
        longest = lengths[share[end - 1]]
        rows = max(1, budget // longest)
        for start in range(max(0, end - rows), end):
            cost = best[start] + (end - start) * longest + overhead
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], len(share)
    while end:
        groups.append(share[cut[end] : end])
        end = cut[end]
    return groups[::-1]


def minibatch_logits(
    model,
    ids: list[list[int]],
    index: list[int],
    pad_id: int,
    dev,
    bf16: bool,
    answer_lengths: list[int] | None = None,
) -> torch.Tensor:
    """The model's logits for examples `index` of `ids`, padded into one batch (with a generative task's answer
    lengths, w2s.models.answerer; for comparisons, both transcripts of each pair, w2s.models.reward)."""
    input_ids, mask = pad_batch(batch_rows([ids[i] for i in index]), pad_id)
    inputs = [input_ids.to(dev), mask.to(dev)]
    if answer_lengths is not None:
        inputs.append(torch.tensor([answer_lengths[i] for i in index], device=dev))
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        return model(*inputs)
