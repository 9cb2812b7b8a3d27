"""The project's GPU check: what a plan for the paper configs needs to know about one GPU, measured with the
project's own training loop, models and generation at the Qwen2.5 shapes of configs/paper_*.yaml (weights random,
built from config: no hub, no network).

    PYTHONUNBUFFERED=1 python bench/gpu_check.py --out OUT [--budget 420] [--parts training,memory]
                                                 [--commit SHA] [--tiny]

Writes OUT/gpu_check.jsonl (one JSON line per measurement, appended as soon as it is taken) and OUT/gpu_check.md
(the tables, rewritten after every measurement; committed as bench/results/gpu_check.md), so a run stopped from
outside still leaves what it measured. Parts, most important first; each measurement is skipped when the time left
of --budget seconds is less than it needs, and an error in one (a CUDA OOM, say) is recorded, not fatal:

  environment  versions, device, memory, bf16, TF32, commit
  training     tokens/s and MFU of w2s.training.loop.train (Classifier, XentLoss, bf16 autocast, length grouping)
               on an NLP-like length mix, qwen2.5-1.5b and -0.5b shapes at their paper_nlp minibatches, batch 32
  memory       peak memory of an optimizer step at the worst cases: qwen2.5-3b as reward model at paper_rm's 2
               pairs x 1024 tokens and as classifier at paper_nlp's 4 x 512, gradient checkpointing off and on
  activations  the activation bytes per token, layer and hidden unit a memory plan needs, fitted on forward and
               backward passes of qwen2.5-3b and -7b reward models at 2 pairs x 512 and x 1024, off and on
  generation   w2s.training.generate.greedy_generate on qwen2.5-3b shapes, 64 prompts of ~900 tokens (the chess
               setting), 8 new tokens, bf16 autocast against fp32
  deepspeed    one process, ZeRO-3, the training part's 0.5b run (where deepspeed imports)

Needs torch and transformers (deepspeed only for its part); not snakemake, polars or the hub. --tiny runs every part
at tiny shapes, on a CPU in seconds: the check of this script.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import shlex
import signal
import sys
import time
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from process_group import join_single_process_group
from published_shapes import QWEN as PUBLISHED_QWEN
from recipe import recipe
from stamp import REPO, commit

GiB = 2**30
# Dense bf16 peak TFLOP/s by device name, most specific first, from the vendors' data sheets.
PEAK_BF16_TFLOPS = (
    ("H100 PCIe", 756.0),
    ("H100 NVL", 835.0),
    ("H200 NVL", 835.0),
    ("H100", 989.0),
    ("H200", 989.0),
    ("A100", 312.0),
)
# Leave room for the CUDA context and the allocator's fragmentation on an "80 GB" card (79.2 GiB in all).
FITS_80GB_GIB = 76.0
PARTS = {
    "environment": "1. Environment",
    "training": "2. Training throughput and MFU: w2s.training.loop.train",
    "memory": "3. Peak memory of an optimizer step at the worst cases",
    "activations": "3b. Activation memory per token, layer and hidden unit",
    "generation": "4. Generation: w2s.training.generate.greedy_generate",
    "deepspeed": "5. DeepSpeed ZeRO-3 in one process",
}


@dataclass(frozen=True)
class Shape:
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    tied: bool


QWEN = {  # the Qwen2.5 base models' configs, by the names of configs/paper_*.yaml
    repo.split("/")[1].lower(): Shape(*published[:6]) for repo, published in PUBLISHED_QWEN.items()
}


@dataclass(frozen=True)
class Sizes:
    """The shapes a run measures at: the paper configs' (`FULL`), or tiny ones that check this script on a CPU."""

    vocab: int
    shapes: dict[str, Shape]
    steps: int  # measured optimizer steps of batch 32 in a training run
    nlp_length: int  # paper_nlp's max_length
    rm_length: int  # paper_rm's (and paper_chess's) max_length
    prompts: int
    prompt_length: int
    new_tokens: int
    # of each measurement's estimated seconds, which the time left is checked against (0: never skip)
    time_scale: float


FULL = Sizes(
    vocab=151_936,
    shapes=QWEN,
    steps=32,
    nlp_length=512,
    rm_length=1024,
    prompts=64,
    prompt_length=900,
    new_tokens=8,
    time_scale=1.0,
)
TINY = Sizes(
    vocab=512,
    shapes={name: Shape(64, 176, 2, 4, 2, shape.tied) for name, shape in QWEN.items()},
    steps=2,
    nlp_length=32,
    rm_length=64,
    prompts=8,
    prompt_length=48,
    new_tokens=4,
    time_scale=0.0,
)


class BudgetSpent(Exception):
    """Raised by the alarm at --budget seconds, wherever the run then is."""


class Check:
    """The run's clock and outputs, and the guard around each measurement."""

    def __init__(self, out: Path, budget: float, sizes: Sizes, header: list[str]):
        out.mkdir(parents=True, exist_ok=True)
        self.jsonl, self.markdown = out / "gpu_check.jsonl", out / "gpu_check.md"
        self.jsonl.write_text("")
        self.budget, self.sizes, self.header = budget, sizes, header
        self.start = time.perf_counter()
        self.records: list[dict] = []

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.start)

    def has_time(self, part: str, case: str, seconds: float) -> bool:
        """Whether `seconds` (at full size) are left; records the skip where not."""
        if self.left() >= seconds * self.sizes.time_scale:
            return True
        self.record(part, case, skipped=f"needs ~{seconds:.0f} s, {max(self.left(), 0):.0f} s left")
        return False

    def measure(self, part: str, case: str, seconds: float, function, *inputs) -> None:
        """Record `function(*inputs)`'s fields, or its error, or the skip where fewer than `seconds` are left."""
        if not self.has_time(part, case, seconds):
            return
        try:
            fields = function(*inputs)
        except Exception as error:  # one measurement's failure (an OOM, say) is itself a finding
            fields = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        finally:
            free_memory()
        self.record(part, case, **fields)

    def record(self, part: str, case: str, **fields) -> None:
        elapsed = round(time.perf_counter() - self.start)
        line = {"part": part, "case": case, **fields, "at_s": elapsed}
        print(json.dumps(line), flush=True)
        with self.jsonl.open("a") as f:
            f.write(json.dumps(line) + "\n")
        self.records.append(line)
        self.markdown.write_text(report(self.header, self.records))


def report(header: list[str], records: list[dict]) -> str:
    lines = [*header]
    for part, title in PARTS.items():
        rows = [{k: v for k, v in r.items() if k != "part"} for r in records if r["part"] == part]
        if rows:
            lines += ["", f"## {title}", "", *table(rows, by_field=part == "environment")]
    return "\n".join(lines) + "\n"


def table(rows: list[dict], by_field: bool) -> list[str]:
    """A markdown table of `rows`, or `by_field`, of one row's fields and values (the environment's many)."""
    if by_field:
        pairs = (f"| {k} | {v} |" for row in rows for k, v in row.items())
        return ["| field | value |", "|---|---|", *pairs]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows),
    ]


def stand_in_for_absent_polars() -> None:
    """The GPU machine has no polars, and the training loop imports w2s.io (for its atomic writes), which imports
    polars at module level though nothing measured here calls it: an empty module in its place lets that import
    pass."""
    try:
        import polars  # noqa: F401
    except ImportError:
        sys.modules["polars"] = types.ModuleType("polars")


# Memory, from the CUDA allocator; on a CPU (a --tiny run) every figure reads 0.


def free_memory() -> None:
    """What an earlier measurement left (its tensors in reference cycles too) back to the device. A no-op on a CPU,
    where there are no figures to clear, and a full collection costs a quarter of a second."""
    if torch.cuda.is_available():
        gc.collect()
        torch.cuda.empty_cache()


def reset_peak() -> None:
    free_memory()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def allocated() -> int:
    return torch.cuda.memory_allocated() if torch.cuda.is_available() else 0


def peak_allocated() -> int:
    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else 0


def peak_reserved() -> int:
    return torch.cuda.max_memory_reserved() if torch.cuda.is_available() else 0


def gib(n_bytes: float) -> float:
    return round(n_bytes / GiB, 2)


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


# The models: random weights at a real shape, in the dtype training holds them in.


def qwen_config(name: str, sizes: Sizes):
    from transformers import AutoConfig

    shape = sizes.shapes[name]
    return AutoConfig.for_model(
        "qwen2",
        vocab_size=sizes.vocab,
        hidden_size=shape.hidden,
        intermediate_size=shape.intermediate,
        num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads,
        num_key_value_heads=shape.kv_heads,
        tie_word_embeddings=shape.tied,
        max_position_embeddings=32768,
        rope_theta=1e6,
        rms_norm_eps=1e-6,
    )


def build(name: str, sizes: Sizes, causal: bool = False) -> torch.nn.Module:
    """A backbone (or, `causal`, a language model) in the fp32 master weights training holds, on the device."""
    from transformers import AutoModel, AutoModelForCausalLM

    from w2s.models.classifier import DTYPES
    from w2s.models.dtypes import TRAINING_DTYPE
    from w2s.training.runtime import device

    kind = AutoModelForCausalLM if causal else AutoModel
    free_memory()  # the model before, a reference cycle once its layers are recomputed
    # initialised where it computes: no copy of a 7B model through host memory
    with torch.device(device()):
        return kind.from_config(
            qwen_config(name, sizes), dtype=DTYPES[TRAINING_DTYPE], attn_implementation="sdpa"
        )


def scored(kind, backbone: torch.nn.Module) -> torch.nn.Module:
    """A Classifier or RewardModel on `backbone`, its head random (a zero head gives the backbone no gradient)."""
    from w2s.training.runtime import device

    return kind(backbone, head_init="random").to(device())


def non_embedding_parameters(model) -> int:
    """N of 6N FLOPs per token: every parameter but the input embedding, a table lookup with no matmul."""
    embedding = model.backbone.get_input_embeddings().weight.numel()
    return sum(p.numel() for p in model.parameters()) - embedding


def paper_recipe(batch: int, minibatch: int):
    """The paper configs' training settings (the schema's defaults: Adam, bf16 autocast where native, dropout off,
    length grouping), one epoch, with no evaluation, logging or checkpoints."""
    return recipe(
        lr=1e-5,
        batch_size=batch,
        minibatch_size=minibatch,
        seed=0,
        epochs=1,
        eval_every=0,
        log_every=10**9,
        checkpoint_every=0,
    )


def random_rows(lengths: list[int], sizes: Sizes, seed: int) -> list[list[int]]:
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(1, sizes.vocab, (n,), generator=generator).tolist() for n in lengths]


def nlp_lengths(n: int, cap: int) -> list[int]:
    """An NLP-like mix: lognormal around a median of a fifth of max_length (~100 tokens at 512; most tasks run
    30-200 tokens, reading comprehension several hundred), cut at max_length."""
    noise = torch.randn(n, generator=torch.Generator().manual_seed(1))
    return torch.exp(noise * 0.75 + math.log(cap / 5)).clamp(8, cap).long().tolist()


# 1. Environment


def environment(check: Check, args) -> None:
    import transformers

    from w2s.training.runtime import bf16_enabled, device

    dev = device()  # turns TF32 on for CUDA, as every job does
    matmul = torch.backends.cuda.matmul
    fields = {
        "commit": args.commit,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "transformers": transformers.__version__,
        "device": device_name(),
        "memory_gib": gib(torch.cuda.mem_get_info()[1]) if dev.type == "cuda" else None,
        "bf16_autocast": bf16_enabled("auto", dev),
        "fp32_matmul": getattr(matmul, "fp32_precision", None) or f"allow_tf32={matmul.allow_tf32}",
        "peak_bf16_tflops": peak_tflops(args),
        "cpus": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(),
        "memory_figures": "CUDA allocator" if dev.type == "cuda" else "none on a CPU: they read 0",
    }
    check.record("environment", "this machine", **fields)


def device_name() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f"cpu ({platform.machine()})"


def peak_tflops(args) -> float | None:
    if args.peak_tflops:
        return args.peak_tflops
    name = device_name()
    return next((peak for key, peak in PEAK_BF16_TFLOPS if key in name), None)


# 2. Training throughput


def training(check: Check, args) -> None:
    for name, minibatch, seconds in (("qwen2.5-1.5b", 8, 90), ("qwen2.5-0.5b", 16, 60)):
        case = f"{name} minibatch {minibatch}"
        measured = (train_throughput, name, minibatch, check.sizes, peak_tflops(args))
        check.measure("training", case, seconds, *measured)


def train_throughput(
    name: str, minibatch: int, sizes: Sizes, peak: float | None, make_engine=None
) -> dict:
    """Tokens/s of `train` over `sizes.steps` batches of 32 NLP-like examples, after two warm-up steps (kernel
    choice, the allocator's first blocks). MFU = 6 N real tokens/s over the device's bf16 `peak` TFLOP/s."""
    from w2s.models.classifier import Classifier
    from w2s.training.loop import LocalEngine, train
    from w2s.training.losses import XentLoss

    model = scored(Classifier, build(name, sizes))
    # counted before ZeRO-3 partitions the weights, leaving each process its share
    n = non_embedding_parameters(model)
    batch, warm = 32, 2 * 32
    lengths = nlp_lengths(warm + sizes.steps * batch, sizes.nlp_length)
    ids, targets = random_rows(lengths, sizes, 0), torch.rand(len(lengths))
    settings, engine = paper_recipe(batch, minibatch), make_engine or LocalEngine
    train(model, ids[:warm], targets[:warm], XentLoss(), settings, 0, make_engine=engine)
    reset_peak()
    sync()
    start = time.perf_counter()
    train(model, ids[warm:], targets[warm:], XentLoss(), settings, 0, make_engine=engine)
    sync()
    seconds = time.perf_counter() - start
    tokens = sum(lengths[warm:])
    return {
        "steps": sizes.steps,
        "real_tokens": tokens,
        "padding_share": round(1 - tokens / padded_tokens(lengths[warm:], settings), 3),
        "seconds": round(seconds, 2),
        "samples_per_s": round(sizes.steps * batch / seconds, 1),
        "tokens_per_s": round(tokens / seconds),
        "n_non_embedding": n,
        "mfu": round(6 * n * tokens / seconds / (peak * 1e12), 3) if peak else None,
        "peak_allocated_gib": gib(peak_allocated()),
        "peak_reserved_gib": gib(peak_reserved()),
    }


def padded_tokens(lengths: list[int], settings) -> int:
    """The tokens the loop's minibatches compute, padding included: its own schedule and length grouping."""
    from w2s.training.batches import Examples, Schedule
    from w2s.training.runtime import bf16_enabled, device

    dev = device()
    bf16 = bf16_enabled(settings.autocast, dev)
    examples = Examples([[0] * n for n in lengths], torch.zeros(len(lengths)), 0, dev, bf16)
    schedule = Schedule(len(lengths), settings)
    minibatches = (
        mb
        for step in range(schedule.total)
        for mb in examples.minibatches(schedule.batch(step), settings.minibatch_size, 0, 1, True)
    )
    return sum(len(mb) * max(lengths[i] for i in mb) for mb in minibatches)


# 3. Memory


def memory(check: Check, args) -> None:
    """Steps at the worst cases of the paper configs' one-GPU entries: qwen2.5-3b as paper_rm's reward model (2
    pairs of 1024 tokens) and as paper_nlp's classifier (4 x 512)."""
    from w2s.models.classifier import Classifier
    from w2s.models.reward import RewardModel

    rm, nlp = check.sizes.rm_length, check.sizes.nlp_length
    cases = (
        (f"3b reward step, 2 pairs x {rm}", RewardModel, 2, rm),
        (f"3b classifier step, 4 x {nlp}", Classifier, 4, nlp),
    )
    for_both_settings(check, "memory", "qwen2.5-3b", step_peak, cases)


def activations(check: Check, args) -> None:
    """The activation constant at paper_rm's minibatch, on qwen2.5-3b and -7b: does it hold across sizes?"""
    from w2s.models.reward import RewardModel

    rm = check.sizes.rm_length
    for name in ("qwen2.5-3b", "qwen2.5-7b"):
        case = f"{name.removeprefix('qwen2.5-')} forward and backward, 2 pairs x {rm}"
        cases = ((case, RewardModel, 2, rm),)
        for_both_settings(check, "activations", name, forward_backward_memory, cases)


def for_both_settings(check: Check, part: str, name: str, function, cases) -> None:
    """`function(model, minibatch, length, sizes)` for each (case, model kind, minibatch, length) of `cases`, on
    one backbone `name`: without gradient checkpointing, then with it (recomputation cannot be undone)."""
    from w2s.models.recompute import recompute_layers

    if not check.has_time(part, name, 60):
        return
    backbone = build(name, check.sizes)
    for recompute in (False, True):
        if recompute:
            recompute_layers(backbone)
        setting = f"gradient checkpointing {'on' if recompute else 'off'}"
        for case, kind, minibatch, length in cases:
            model = scored(kind, backbone)
            measured = (function, model, minibatch, length, check.sizes)
            check.measure(part, f"{case}, {setting}", 20, *measured)


def examples_of(model, n: int, length: int, sizes: Sizes):
    """`n` examples of `length` tokens each (a reward model's: `n` pairs of two), as the loop holds them."""
    from w2s.models.reward import RewardModel
    from w2s.models.tokens import Pair
    from w2s.training.batches import Examples
    from w2s.training.runtime import bf16_enabled, device

    rows = random_rows([length] * n * 2, sizes, 2)
    pairs = [Pair(a, b) for a, b in zip(rows[:n], rows[n:])]
    ids = pairs if isinstance(model, RewardModel) else rows[:n]
    dev = device()
    return Examples(ids, torch.rand(n, device=dev), 0, dev, bf16_enabled("auto", dev))


def step_peak(model, minibatch: int, length: int, sizes: Sizes) -> dict:
    """Peak memory of an optimizer step of one minibatch of `length`-token rows (the longest a batch can have),
    over two steps: from the second on, Adam's moments are held through the forward and backward passes. A batch
    of several minibatches peaks as high: gradients accumulate in place."""
    from w2s.models.tokens import batch_rows
    from w2s.training.loop import LocalEngine, optimizer_step
    from w2s.training.losses import LossContext, XentLoss
    from w2s.training.runtime import training_mode

    examples, index = examples_of(model, minibatch, length, sizes), list(range(minibatch))
    rows = len(batch_rows([examples.ids[i] for i in index]))
    engine = LocalEngine(model, paper_recipe(minibatch, minibatch), total_steps=2)
    training_mode(model, "off")
    n = sum(p.numel() for p in model.parameters())
    reset_peak()
    optimizer_step(engine, examples, index, XentLoss(), minibatch, LossContext(0.0))
    sync()
    start = time.perf_counter()
    optimizer_step(engine, examples, index, XentLoss(), minibatch, LossContext(0.5))
    sync()
    seconds = time.perf_counter() - start
    states = 16 * n  # fp32 weights, gradients and Adam's two moments
    above = peak_allocated() - states
    return {
        "rows": rows,
        "length": length,
        "parameters": n,
        "step_s": round(seconds, 2),
        "states_gib": gib(states),
        "peak_allocated_gib": gib(peak_allocated()),
        "peak_above_states_gib": gib(above),
        "above_states_per_token_layer_hidden": round(per_unit(model, above, rows * length), 1),
        "peak_reserved_gib": gib(peak_reserved()),
        "fits_80gb": gib(peak_reserved()) <= FITS_80GB_GIB,
    }


def per_unit(model, n_bytes: float, tokens: int) -> float:
    """Bytes per token, layer and hidden unit: the activation constant's unit."""
    config = model.backbone.config
    return n_bytes / (tokens * config.num_hidden_layers * config.hidden_size)


def forward_backward_memory(model, pairs: int, length: int, sizes: Sizes) -> dict:
    """Forward and backward passes of one minibatch (no optimizer) at half and full `length`. What the forward
    pass keeps for the backward pass grows linearly with the tokens: its slope per token, layer and hidden unit is
    the constant a memory plan multiplies out; its intercept, what does not grow (autocast's bf16 weight copies,
    kept for the backward pass unless the layers are recomputed)."""
    kept, peaks = {}, {}
    for row_length in (length // 2, length):
        kept[row_length], peaks[row_length] = forward_backward(model, pairs, row_length, sizes)
    tokens = {row_length: 2 * pairs * row_length for row_length in kept}
    slope = (kept[length] - kept[length // 2]) / (tokens[length] - tokens[length // 2])
    n = sum(p.numel() for p in model.parameters())
    return {
        "rows": 2 * pairs,
        "lengths": f"{length // 2} and {length}",
        "kept_after_forward_gib": gib(kept[length]),
        "peak_above_weights_gib": gib(peaks[length]),
        "grads_gib": gib(4 * n),
        "bytes_per_token_layer_hidden": round(per_unit(model, slope, 1), 1),
        "intercept_gib": gib(kept[length] - slope * tokens[length]),
        "bf16_weight_copies_gib": gib(2 * n),
    }


def forward_backward(model, pairs: int, length: int, sizes: Sizes) -> tuple[int, int]:
    """Bytes the forward pass keeps for the backward pass, and the two passes' peak above the weights."""
    from w2s.training.losses import LossContext, XentLoss
    from w2s.training.runtime import training_mode

    examples, index = examples_of(model, pairs, length, sizes), list(range(pairs))
    training_mode(model, "off")
    model.zero_grad(set_to_none=True)
    reset_peak()
    weights = allocated()
    logits = examples.logits(model, index)
    kept = allocated() - weights
    XentLoss()(logits, examples.targets[index], LossContext()).backward()
    sync()
    peak = peak_allocated() - weights
    model.zero_grad(set_to_none=True)
    return kept, peak


# 4. Generation


def generation(check: Check, args) -> None:
    sizes = check.sizes
    if not check.has_time("generation", "qwen2.5-3b", 45):
        return
    lm = build("qwen2.5-3b", sizes, causal=True).eval()
    for bf16 in (True, False):
        case = f"3b, {sizes.prompts} prompts x ~{sizes.prompt_length}, {'bf16 autocast' if bf16 else 'fp32'}"
        check.measure("generation", case, 20, generate, lm, bf16, sizes)


def generate(lm, bf16: bool, sizes: Sizes) -> dict:
    """Seconds and peak memory (above the weights) of one batch of greedy answers, after a warm-up batch of two
    short prompts (kernel choice)."""
    from w2s.training.generate import greedy_generate

    prompts = random_rows([sizes.prompt_length - k % 32 for k in range(sizes.prompts)], sizes, 3)
    options = {"max_new_tokens": sizes.new_tokens, "min_new_tokens": 1, "bf16": bf16}
    greedy_generate(lm, [row[:16] for row in prompts[:2]], 0, set(), **options)
    reset_peak()
    weights = allocated()
    sync()
    start = time.perf_counter()
    answers = greedy_generate(lm, prompts, 0, set(), batch_size=sizes.prompts, **options)
    sync()
    seconds = time.perf_counter() - start
    return {
        "new_tokens": sum(len(a.tokens) for a in answers),
        "seconds": round(seconds, 2),
        "prompt_tokens_per_s": round(sum(map(len, prompts)) / seconds),
        "peak_above_weights_gib": gib(peak_allocated() - weights),
        "weights_gib": gib(weights),
    }


# 5. DeepSpeed


def deepspeed_zero3(check: Check, args) -> None:
    try:
        import deepspeed  # noqa: F401
    except ModuleNotFoundError:
        check.record("deepspeed", "ZeRO-3, one process", skipped="deepspeed absent")
        return
    from w2s.training.distributed import DeepSpeedEngine

    case, seconds = "qwen2.5-0.5b minibatch 16, ZeRO-3, one process", 90
    if not check.has_time("deepspeed", case, seconds):
        return
    join_single_process_group()
    zero3 = DeepSpeedEngine.factory(3, False)
    measured = (train_throughput, "qwen2.5-0.5b", 16, check.sizes, peak_tflops(args), zero3)
    check.measure("deepspeed", case, seconds, *measured)


def commit_stamp(named: str | None) -> str:
    """The commit `named` (--commit), else this checkout's: a lent GPU machine's copy of the working tree may have
    no git history, or no git."""
    try:
        found = commit()
    except OSError:
        found = ""
    return named or found or "unknown (no git history: pass --commit)"


def header(args) -> list[str]:
    return [
        "# GPU check (`bench/gpu_check.py`)",
        "",
        f"`{shlex.join(['python', *sys.argv])}`",
        "",
        f"Commit {args.commit}, {device_name()}, {datetime.now(UTC).isoformat(timespec='seconds')}; "
        f"budget {args.budget:g} s{', tiny shapes' if args.tiny else ''}.",
        "",
        "Random weights at the Qwen2.5 shapes of configs/paper_*.yaml, fp32 master weights, bf16 autocast where "
        "the device has it, the project's own loop, models and generation; memory figures are the CUDA "
        "allocator's (GiB).",
        "",
        "Calibrate the plan against: for job runtimes, part 2's tokens_per_s and mfu (6 N FLOPs per real, unpadded "
        "token; N every parameter but the input embedding; attention's length-dependent FLOPs left out); for the "
        "memory planner, part 3b's bytes_per_token_layer_hidden and intercept_gib (activations = constant x tokens "
        "x layers x hidden + intercept, on top of 16 bytes per parameter of weights, gradients and Adam), "
        "checked against part 3's step peaks, which say which configs fit an 80 GB card (fits_80gb: the "
        f"allocator's reserved peak at most {FITS_80GB_GIB:g} GiB); for labelling jobs, part 4's seconds.",
    ]


PART_FUNCTIONS = {
    "environment": environment,
    "training": training,
    "memory": memory,
    "activations": activations,
    "generation": generation,
    "deepspeed": deepspeed_zero3,
}


def on_alarm(signum, frame):
    raise BudgetSpent("--budget seconds are spent")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu_check")))
    parser.add_argument("--budget", type=float, default=420.0, help="seconds the checks may take")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated, in this order")
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak (default: by name)")
    parser.add_argument("--threads", type=int, default=4, help="a one-GPU job's (CPUS_PER_GPU)")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes: checks this script")
    parser.add_argument("--commit", help="the commit to stamp (default: this checkout's)")
    args = parser.parse_args()
    args.commit = commit_stamp(args.commit)
    parts = args.parts.split(",")
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"--parts: unknown {sorted(unknown)}; expected {', '.join(PARTS)}")
    if not (args.tiny or torch.cuda.is_available()):
        parser.error("no CUDA GPU here: --tiny checks this script on a CPU")
    # the package from this checkout: a lent GPU machine has it uninstalled
    sys.path.insert(0, str(REPO))
    stand_in_for_absent_polars()
    from w2s.training.runtime import use_threads

    use_threads(args.threads)
    check = Check(args.out, args.budget, TINY if args.tiny else FULL, header(args))
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.budget)
    for part in parts:
        try:
            PART_FUNCTIONS[part](check, args)
        # a part's own failure (building its model, say) is recorded, and the other parts run
        except Exception as error:
            check.record(part, "part", error=f"{type(error).__name__}: {str(error)[:300]}")
        free_memory()
    signal.setitimer(signal.ITIMER_REAL, 0)
    print(f"wrote {check.markdown} and {check.jsonl} in {time.perf_counter() - check.start:.0f} s")


if __name__ == "__main__":
    main()
