"""The one training loop for weak, ceiling and student runs.

An optimizer step consumes `batch_size` examples as minibatches of `minibatch_size` (gradient accumulation). Each
epoch's example order is a pure function of (seed, epoch), so the loop's position is just its step count: a run
that saves its state every `checkpoint_every` steps resumes after a kill exactly where it stopped and ends with the
same weights as an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist

from w2s.losses import LossContext
from w2s.resume import load_state, remove_state, save_state
from w2s.tokens import pad_batch


@dataclass
class TrainSettings:
    lr: float
    batch_size: int = 32
    minibatch_size: int = 32
    epochs: int = 2
    optimizer: str = "adam"  # adam | adamw
    weight_decay: float = 0.0
    warmup_frac: float = 0.0  # share of steps with linear lr warmup before the cosine decay
    schedule: str = "cosine"  # cosine | constant
    eval_every: int = 0  # optimizer steps between evaluations; 0: evaluate at the end only
    log_every: int = 10
    autocast: str = "auto"  # auto (bf16 on GPUs that support it) | bf16 | off
    seed: int = 0
    checkpoint_every: int = 0  # optimizer steps between resumable states; 0: none


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def bf16_enabled(setting: str, dev: torch.device) -> bool:
    if setting == "auto":
        return dev.type == "cuda" and torch.cuda.is_bf16_supported()
    return setting == "bf16"


def lr_factor(step: int, total: int, settings: TrainSettings) -> float:
    warmup = int(settings.warmup_frac * total)
    if step < warmup:
        return (step + 1) / warmup
    if settings.schedule == "constant":
        return 1.0
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def optimizer_and_schedule(model: torch.nn.Module, settings: TrainSettings, total_steps: int):
    kind = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[settings.optimizer]
    optimizer = kind(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, total_steps, settings))


class LocalEngine:
    """One process, plain PyTorch: the optimizer and schedule the loop steps. `DeepSpeedEngine` has the same face."""

    rank, world = 0, 1

    def __init__(self, model: torch.nn.Module, settings: TrainSettings, total_steps: int):
        self.module = model
        self.optimizer, self.scheduler = optimizer_and_schedule(model, settings, total_steps)

    def __call__(self, input_ids, attention_mask):
        return self.module(input_ids, attention_mask)

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def step(self) -> None:
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def gather(self, tensor: torch.Tensor) -> torch.Tensor:
        """This rank's rows of a batch -> the whole batch's rows (any order)."""
        return tensor

    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    def model_state(self) -> dict:
        return self.module.state_dict()

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])


def rank_minibatches(batch: list[int], minibatch_size: int, rank: int, world: int) -> list[list[int]]:
    """This rank's share of a batch as minibatches; every rank gets the same count (some may be empty), because
    under ZeRO-3 each forward pass is a collective operation."""
    share = batch[rank::world]
    count = math.ceil(math.ceil(len(batch) / world) / minibatch_size)
    return [share[i * minibatch_size : (i + 1) * minibatch_size] for i in range(count)]


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The example order of one epoch: depends on (seed, epoch) only, so a resumed run needs no generator state."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).tolist()


def minibatch_logits(model, ids: list[list[int]], index: list[int], pad_id: int, dev, bf16: bool) -> torch.Tensor:
    input_ids, mask = pad_batch([ids[i] for i in index], pad_id)
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        return model(input_ids.to(dev), mask.to(dev))


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def train(
    model: torch.nn.Module,
    ids: list[list[int]],
    targets: torch.Tensor,
    loss_fn,
    settings: TrainSettings,
    pad_id: int,
    evaluate: Callable[[torch.nn.Module], dict] | None = None,
    trajectory_path: str | Path | None = None,
    resume_dir: str | Path | None = None,
    fingerprint: str = "",
    make_engine: Callable = LocalEngine,
    evaluate_at_end: bool = True,
) -> dict:
    """Train in place; return a summary. Writes one jsonl line per log/eval point to `trajectory_path`. `evaluate`
    runs every `eval_every` steps and, with `evaluate_at_end`, once more on the trained model.

    With `resume_dir`, a state saved there by a run with the same `fingerprint` is restored first, a new one is
    saved every `checkpoint_every` steps, and the folder is removed when training finishes.
    """
    dev = device()
    bf16 = bf16_enabled(settings.autocast, dev)
    model.to(dev).train()
    steps_per_epoch = math.ceil(len(ids) / settings.batch_size)
    total = steps_per_epoch * settings.epochs
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    history: list[dict] = []
    step = 0
    saved = load_state(resume_dir, rank) if resume_dir else None
    if saved and (saved[0]["fingerprint"], saved[0]["world"]) != (fingerprint, world):
        if rank == 0:
            print(f"discarding the resumable state in {resume_dir}: it belongs to other inputs, settings or "
                  "process count", flush=True)
        remove_state(resume_dir, rank)
        saved = None
    if saved:
        shared, own = saved
        model.load_state_dict(shared["model"])  # before the engine: DeepSpeed partitions the weights it is given
        engine = make_engine(model, settings, total)
        engine.load_state_dict(own["engine"])
        set_rng_state(own["rng"])
        step, history = shared["step"], shared["history"]
        print(f"resumed from step {step} of {total} ({resume_dir})", flush=True)
    else:
        engine = make_engine(model, settings, total)
    targets = targets.float().to(dev)
    trajectory = None
    if trajectory_path:
        Path(trajectory_path).parent.mkdir(parents=True, exist_ok=True)
        trajectory = open(trajectory_path, "w")
        trajectory.writelines(json.dumps(entry) + "\n" for entry in history)  # a resumed run's earlier points
    print(f"training {total} steps ({settings.epochs} epochs of {len(ids)} examples, batch {settings.batch_size}, "
          f"minibatch {settings.minibatch_size}, bf16 {bf16}, device {dev})", flush=True)
    start, first_step, recent = time.perf_counter(), step, []

    def record(entry: dict) -> None:
        history.append(entry)
        print(" | ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in entry.items()), flush=True)
        if trajectory:
            trajectory.write(json.dumps(entry) + "\n")
            trajectory.flush()

    order, order_epoch = [], -1
    while step < total:
        epoch, position = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = epoch_order(len(ids), settings.seed, epoch), epoch
        batch = order[position * settings.batch_size : (position + 1) * settings.batch_size]
        recent.append(optimizer_step(engine, ids, batch, targets, loss_fn, settings, LossContext(step / total),
                                     pad_id, dev, bf16))
        step += 1
        is_eval = evaluate is not None and settings.eval_every and step % settings.eval_every == 0 and step < total
        if step % settings.log_every == 0 or is_eval or step == total:
            entry = {"step": step, "epoch": round(step / steps_per_epoch, 3), "loss": sum(recent) / len(recent),
                     "lr": engine.lr(), "steps_per_s": (step - first_step) / (time.perf_counter() - start)}
            recent = []
            if is_eval:
                entry.update(run_eval(model, evaluate))
            record(entry)
        if resume_dir and settings.checkpoint_every and step % settings.checkpoint_every == 0 and step < total:
            weights = engine.model_state()  # on rank 0; under ZeRO-3 every rank takes part in gathering them
            shared = {"fingerprint": fingerprint, "world": world, "step": step, "history": history, "model": weights}
            save_state(resume_dir, step, shared if rank == 0 else None,
                       {"rng": rng_state(), "engine": engine.state_dict()}, rank)
    seconds = time.perf_counter() - start
    final = run_eval(model, evaluate) if evaluate and evaluate_at_end else {}
    if final:
        record({"step": step, "epoch": float(settings.epochs), **final})
    if trajectory:
        trajectory.close()
    if resume_dir:
        remove_state(resume_dir, rank)
    trained = (step - first_step) * settings.batch_size
    return {"steps": step, "train_seconds": seconds, "samples_per_s": trained / seconds if seconds else 0.0, **final}


def optimizer_step(engine, ids, batch, targets, loss_fn, settings, ctx: LossContext, pad_id, dev, bf16) -> float:
    """One optimizer step over `batch`, accumulating gradients over this rank's minibatches; returns the batch's
    mean loss (estimated from this rank's share when there are several ranks).

    An empty minibatch (a rank with nothing left of a short batch) still runs a forward pass on a stand-in row with
    zero weight, because under ZeRO-3 every forward pass gathers weights collectively.
    """
    micro = rank_minibatches(batch, settings.minibatch_size, engine.rank, engine.world)
    if loss_fn.needs_batch_threshold and (len(micro) > 1 or engine.world > 1):
        # The threshold must see the whole batch, not one minibatch: one extra forward pass, no grad.
        with torch.no_grad():
            p1 = [torch.softmax(minibatch_logits(engine, ids, mb or batch[:1], pad_id, dev, bf16).float(), -1)
                  [: len(mb), 1] for mb in micro]
        mine = [i for mb in micro for i in mb]
        ctx.threshold = loss_fn.batch_threshold(engine.gather(torch.cat(p1)), engine.gather(targets[mine]))
    batch_loss = 0.0
    for mb in micro:
        weight = len(mb) / len(batch) * engine.world  # the engine averages gradients over ranks
        mb = mb or batch[:1]
        logits = minibatch_logits(engine, ids, mb, pad_id, dev, bf16)
        if loss_fn.needs_batch_threshold and ctx.threshold is None:  # one minibatch is the whole batch
            ctx.threshold = loss_fn.batch_threshold(torch.softmax(logits.detach().float(), -1)[:, 1], targets[mb])
        loss = loss_fn(logits, targets[mb], ctx) * weight
        engine.backward(loss)
        batch_loss += loss.item()
    engine.step()
    return batch_loss


def run_eval(model, evaluate) -> dict:
    model.eval()
    with torch.no_grad():
        result = evaluate(model)
    model.train()
    return result
