"""Each model job's memory, estimated from the model's shape and the recipe before anything runs: its peak GPU memory
per process, which `w2s plan` sets against the cluster's GPU (config cluster.gpu_memory_gib), saying which jobs cannot
fit and what would make them fit; and its host memory, which a GPU job asks the cluster for (w2s.pipeline.cluster).

GPU memory per process, for N parameters of which T train, under ZeRO over P processes (bytes):
  weights      4N: fp32 master weights in training (a prediction job's in its entry's dtype); /P under ZeRO-3
  gradients    4T fp32; /P under ZeRO-2 and 3
  optimizer    8T: Adam's two moments; /P under ZeRO
  bf16 copies  2N: autocast's casts of the weights, made in the forward pass and kept for the backward pass
  activations  what the backward pass keeps of each token in each layer (activation_bytes), or with gradient
               checkpointing each layer's input (4 x hidden) plus one layer's activations while it is recomputed
  logits       a language-model loss (generative finetuning) over the full vocabulary at every position
  KV cache     generation's keys and values of every prompt token, in bf16
The peak holds the largest phase (a pass, the optimizer step with its foreach temporaries, an evaluation) on top of
the state, plus the CUDA context. The constants are estimates, to be calibrated against bench/gpu_check.py's
measurements on a GPU.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from w2s.kinds import CLASSIFICATION, of_entry
from w2s.pipeline.model_shapes import DTYPE_BYTES, Shape
from w2s.pipeline.rule_params import deepspeed_launch

GiB = 2**30
CUDA_CONTEXT = 1.0 * GiB  # the CUDA context and cuBLAS workspaces
# The share of a GPU's memory a job may plan to use: the caching allocator's fragmentation takes some of the rest, and
# these estimates are estimates (to be calibrated against bench/gpu_check.py's measurements).
USABLE = 0.9


def activation_bytes(hidden: int, intermediate: int) -> int:
    """What the backward pass keeps per token per layer under bf16 autocast with SDPA attention (no score matrix):
    the attention block's inputs, projections and fp32 norms, and the MLP's up, gate and activation outputs.
    Measured with autograd's saved-tensor hooks on a CPU: Qwen2 38 x hidden + 8 x intermediate (this is 3% over);
    GPT-2, its GELU fused as w2s loads it, 40 x hidden at intermediate 4 x hidden, which this over-estimates 1.8 times
    (tests/test_memory.py): a safe bound for the small GPT-2s, tight for the large models."""
    return 40 * hidden + 8 * intermediate


def inference_bytes(hidden: int, intermediate: int) -> int:
    """What one layer's forward pass without gradients holds per token at its widest, in bf16: the fp32 residual
    stream and its normed copy, the attention's projections and output, and the MLP's gate, up and product (no
    layer's tensors outlive it). An upper bound by counting, to be checked against bench/gpu_check.py."""
    return 12 * hidden + 8 * intermediate


LOGIT_BYTES = 14  # per token and vocabulary entry: the bf16 logits, their fp32 copy, its log-softmax, its gradient
# Generative finetuning's loss keeps the bf16 logits and their gradient for every token (4 bytes an entry) and the
# fp32 copy, log-softmax and gradient (12) for one row at a time (w2s.training.generative.token_loss_sum).
LM_LOGIT_BYTES, LM_ROW_BYTES = 4, 12


@dataclass(frozen=True)
class Layout:
    """How a job spreads over processes: its ZeRO stage (0: none) and process count; and whether its module computes
    in DeepSpeed's bf16 mode (bf16 weights, fp32 masters in the optimizer's partitions) rather than autocast."""

    zero_stage: int = 0
    processes: int = 1
    deepspeed_bf16: bool = False

    def share(self, stage: int) -> int:
        """The divisor of state that ZeRO partitions from `stage` on."""
        return self.processes if self.zero_stage >= stage else 1


@dataclass(frozen=True)
class Estimate:
    """A job's memory per process (bytes): what it holds throughout (`held`) and what each of its phases (a training
    pass, the optimizer step, an evaluation) adds while it runs; the phases take turns, so the peak has the largest."""

    held: dict[str, float]
    phases: dict[str, dict[str, float]]

    @property
    def peak(self) -> float:
        largest = max((sum(parts.values()) for parts in self.phases.values()), default=0)
        return sum(self.held.values()) + largest + CUDA_CONTEXT

    def describe(self) -> str:
        """GiB by part, e.g. "weights 11.5, ...; pass: activations 25.6, ...; optimizer step: ..."."""
        held = ", ".join(f"{name} {value / GiB:.1f}" for name, value in self.held.items() if value)
        phases = [
            f"{phase}: "
            + ", ".join(f"{name} {value / GiB:.1f}" for name, value in parts.items() if value)
            for phase, parts in self.phases.items()
            if any(parts.values())
        ]
        return "; ".join([held, *phases])


def prediction_pass(
    shape: Shape, rows: int, tokens: int, generated: int, autocast_copies: bool
) -> dict[str, float]:
    """A prediction pass: one layer's activations at a time (nothing is kept for a backward pass), the logits of
    the positions read, a generating job's KV cache (keys and values of every token in every layer, bf16), and
    autocast's bf16 casts of fp32 weights."""
    # only generation reads the vocabulary's logits and keeps a KV cache
    answering = 1 if generated else 0
    return {
        "bf16 copies": 2 * shape.params if autocast_copies else 0,
        "activations": rows * tokens * inference_bytes(shape.hidden, shape.intermediate),
        "logits": answering * rows * shape.vocab * LOGIT_BYTES,  # the next token's, at each step
        "KV cache": answering * rows * (tokens + generated) * 2 * 2 * shape.kv_width * shape.layers,
    }


def training_memory(
    shape: Shape,
    rows: int,
    tokens: int,
    layout: Layout,
    checkpointing: bool,
    logit_tokens: int,
    evaluation: dict[str, float],
    bf16: bool = True,
    row_by_row: bool = False,
) -> Estimate:
    """A training job's memory, for passes of `rows` x `tokens` whose loss reads the full vocabulary's logits at
    `logit_tokens` positions per row (a language model's every token; a generated answer's tokens; a classifier's
    none), in fp32 for the whole pass or, `row_by_row`, for one row at a time; evaluated by passes of `evaluation`
    (prediction_pass)."""
    n, t = shape.params, shape.trained
    kept = activation_bytes(shape.hidden, shape.intermediate) * (1 if bf16 else 2)
    per_token = (4 * shape.hidden * shape.layers + kept) if checkpointing else kept * shape.layers
    held = {
        "weights": (2 if layout.deepspeed_bf16 else 4) * n / layout.share(3),
        "master weights": 4 * t / layout.share(1) if layout.deepspeed_bf16 else 0,
        "gradients": 4 * t / layout.share(2),
        "optimizer": 8 * t / layout.share(1),
    }
    training_pass = {
        "bf16 copies": 2 * n if bf16 and not layout.deepspeed_bf16 else 0,
        "activations": rows * tokens * per_token,
        "logits": (
            (rows * LM_LOGIT_BYTES + LM_ROW_BYTES) * logit_tokens * shape.vocab
            if row_by_row
            else rows * logit_tokens * shape.vocab * LOGIT_BYTES
        ),
    }
    phases = {
        "pass": training_pass,
        "optimizer step": {"temporaries": 4 * t / layout.share(1)},
        "evaluation": evaluation,
    }
    return Estimate(held, phases)


def prediction_memory(shape: Shape, dtype_bytes: int, layout: Layout, evaluation: dict) -> Estimate:
    """A prediction job's memory: its weights (in the entry's dtype) and its passes (prediction_pass)."""
    return Estimate({"weights": dtype_bytes * shape.params / layout.share(3)}, {"pass": evaluation})


# A process's host memory besides the model: Python, torch and the CUDA libraries, the tokenised splits.
PROCESS_OVERHEAD = 3e9
HOST_MARGIN = (
    1.25  # what a host request adds to the estimate: the allocator's and page cache's slack
)


def host_bytes(shape: Shape, kind: str, processes: int, dtype_bytes: int = 4) -> float:
    """A job's host memory on one node (bytes), `processes` of its processes there: each loads the whole model
    (training in fp32, prediction in the entry's dtype) before moving it to its GPU; a training job also writes
    resumable states, its weights and Adam's moments copied to host memory (rank 0's weights, each process's share
    of the moments), and its final checkpoint."""
    load = processes * (4 if kind != "prediction" else dtype_bytes) * shape.params
    save = 4 * shape.params + 8 * shape.trained if kind != "prediction" else 0
    return max(load, save) + processes * PROCESS_OVERHEAD


def job_kind(rule: str) -> str | None:
    """What a rule's (or a cluster stage's) job holds in memory: "training", "generative finetuning" or
    "prediction"; None for a job that runs no model on a GPU."""
    if rule.startswith(("train_", "crossfit_")) or rule == "pretrain_model":
        return "training"
    if rule == "generative_finetune":
        return "generative finetuning"
    if rule.startswith(("label_", "predict_")) or rule in (
        "score_zero_shot",
        "score_few_shot",
        "extract_activations",
    ):
        return "prediction"
    return None


def task_kind(config: dict, dataset: str) -> str:
    """How a dataset's jobs differ in memory: comparisons run both transcripts of a pair, answers read logits."""
    kind = of_entry(config["datasets"][dataset])
    return "" if kind is CLASSIFICATION else f" ({kind.name})"


def job_memory(config: dict, model: str, kind: str, dataset: str, shape: Shape) -> Estimate:
    """The memory per process of a job of `kind` (job_kind) of `model` on `dataset`, computing on a GPU with
    bf16 (training.autocast auto or bf16): passes of minibatch_size rows (a comparison's two transcripts each) of
    max_length tokens, the worst case; evaluations and prediction jobs in passes of predict_batch_size rows."""
    entry = config["models"][model]
    task = of_entry(config["datasets"][dataset])
    generated, transcripts = task.generated_tokens(config, dataset), task.transcripts
    bf16 = config["training"]["autocast"] != "off"
    launch = deepspeed_launch(entry)
    layout = (
        Layout(launch["stage"], launch["nodes"] * launch["processes_per_node"], bf16)
        if launch
        else Layout()
    )
    if generated or kind == "generative finetuning":
        shape = shape.as_language_model()
    tokens, rows = shape.context, config["training"]["predict_batch_size"] * transcripts
    if kind == "prediction":
        copies = bf16 and entry["dtype"] == "float32"  # autocast casts fp32 weights, not bf16 ones
        passes = prediction_pass(shape, rows, tokens, generated, copies)
        return prediction_memory(shape, DTYPE_BYTES[entry["dtype"]], layout, passes)
    checkpointing = entry["gradient_checkpointing"]
    if kind == "generative finetuning":  # a language model's loss reads every position's logits
        minibatch = entry["minibatch_size"]
        return training_memory(
            shape, minibatch, tokens, layout, checkpointing, tokens, {}, bf16, True
        )
    evaluation = prediction_pass(shape, rows, tokens, generated, bf16 and not layout.deepspeed_bf16)
    logit_tokens = generated + 1 if generated else 0  # an answer's tokens and its stop
    rows = entry["minibatch_size"] * transcripts
    return training_memory(
        shape, rows, tokens, layout, checkpointing, logit_tokens, evaluation, bf16
    )


def fix(config: dict, model: str, kind: str, dataset: str, shape: Shape, budget: float) -> str:
    """The first of the usual changes that brings a job within `budget` bytes: gradient checkpointing (for
    prediction, bf16 weights), then halved minibatches and prediction batches, then (training) ZeRO-3 over more
    GPUs."""
    entry, training = config["models"][model], config["training"]
    first = {"dtype": "bfloat16"} if kind == "prediction" else {"gradient_checkpointing": True}
    base = {key: value for key, value in first.items() if entry[key] != value}
    tries = [(base, {})]
    minibatch, batch = entry["minibatch_size"], training["predict_batch_size"]
    while minibatch > 1 or batch > 1:
        minibatch, batch = max(1, minibatch // 2), max(1, batch // 2)
        smaller = {} if kind == "prediction" else {"minibatch_size": minibatch}
        tries.append(({**base, **smaller}, {"predict_batch_size": batch}))
    if kind != "prediction":
        tries += [
            ({**base, "deepspeed": {"stage": 3}, "gpus": n}, {})
            for n in (2, 4, 8)
            if n > entry["gpus"]
        ]
    for model_changes, training_changes in tries:
        changed = copy.deepcopy(config)
        changed["models"][model].update(model_changes)
        changed["training"].update(training_changes)
        peak = job_memory(changed, model, kind, dataset, shape).peak
        if peak <= budget:
            keys = [f"models.{model}.{k}: {v}" for k, v in model_changes.items()]
            keys += [f"training.{k}: {v}" for k, v in training_changes.items()]
            return f"fits with {', '.join(keys)}: {peak / GiB:.1f} GiB"
    return "none of gradient checkpointing, smaller batches or ZeRO-3 over 8 GPUs fits it: a larger GPU, or more nodes"
