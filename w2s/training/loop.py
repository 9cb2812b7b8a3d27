"""The one training loop for weak, ceiling and student runs.

An optimizer step consumes `batch_size` examples as minibatches of `minibatch_size` (gradient accumulation). Each
epoch's example order is a pure function of (seed, epoch), so the loop's position is just its step count: a run
that saves its state every `checkpoint_every` steps resumes after a kill exactly where it stopped and ends with the
same weights as an uninterrupted run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from w2s.training.batches import Examples, Schedule
from w2s.training.losses import LossContext
from w2s.training.resume import Resumable, rng_state, set_rng_state
from w2s.training.runtime import (
    bf16_enabled,
    device,
    trained_names,
    trained_state,
    training_mode,
)
from w2s.training.settings import Diverged, TrainSettings, optimizer_and_schedule
from w2s.training.trajectory import Trajectory


class LocalEngine:
    """One process, plain PyTorch: the optimizer and schedule the loop steps. `DeepSpeedEngine` has the same face."""

    rank, world = 0, 1
    bf16 = False  # the module stays in fp32 (the loop's autocast computes in bf16 where asked)

    def __init__(self, model: torch.nn.Module, settings: TrainSettings, total_steps: int):
        self.module = model.to(device())  # a DeepSpeed engine places its module itself
        self.optimizer, self.scheduler = optimizer_and_schedule(model, settings, total_steps)

    def __call__(self, *inputs, **named):
        # input_ids, attention_mask (and a generative task's answer lengths); a language model's by name
        return self.module(*inputs, **named)

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
        return trained_state(self.module.state_dict(), trained_names(self.module))

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def restore_weights(self, state: dict) -> None:
        """Nothing to do: the module's weights, loaded before the engine started, are the ones it steps."""


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
    mirrors: list = (),
    answer_lengths: list[int] | None = None,
) -> dict:
    """Train in place; return a summary. Writes one jsonl line per log/eval point to `trajectory_path`. `evaluate`
    runs every `eval_every` steps and, with `evaluate_at_end`, once more on the trained model. Each point also goes
    to the dashboards in `mirrors`. `answer_lengths`: a generative task's (w2s.models.answerer).

    With `resume_dir`, a state saved there by a run with the same `fingerprint` is restored first, a new one is
    saved every `checkpoint_every` steps, and the folder is removed when training finishes.
    """
    dev = device()
    examples = Examples(
        ids,
        targets.float().to(dev),
        pad_id,
        dev,
        bf16_enabled(settings.autocast, dev),
        answer_lengths,
    )
    schedule, resumable = Schedule(len(ids), settings), Resumable(resume_dir, fingerprint)
    total = schedule.total
    engine, step, history = resumable.start(model, settings, total, make_engine)
    examples.bf16 = examples.bf16 and not engine.bf16  # a module in bf16 needs no autocast
    training_mode(
        model, settings.dropout
    )  # after the engine is made: a DeepSpeed engine may set its own mode
    print(
        f"training {total} steps ({settings.epochs} epochs of {len(ids)} examples, batch {settings.batch_size}, "
        f"minibatch {settings.minibatch_size}, {compute_precision(engine, examples)}, device {dev})",
        flush=True,
    )
    start, first_step, recent, agreed = time.perf_counter(), step, [], [0, 0]
    with Trajectory(trajectory_path, history, mirrors) as trajectory:
        while step < total:
            loss, n_agreed, n = optimizer_step(
                engine,
                examples,
                schedule.batch(step),
                loss_fn,
                settings.minibatch_size,
                LossContext(step / total),
                settings.group_by_length,
            )
            recent.append(loss)
            agreed[0], agreed[1] = agreed[0] + n_agreed, agreed[1] + n
            step += 1
            if not math.isfinite(loss):
                raise Diverged(
                    f"training diverged: the loss is {loss} at step {step} of {total} (learning rate "
                    f"{engine.lr():.3g} at this step of the schedule, peak lr {settings.lr:g}); lower the learning "
                    "rate (lr) and rerun"
                )
            is_eval = (
                evaluate is not None
                and settings.eval_every
                and step % settings.eval_every == 0
                and step < total
            )
            if step % settings.log_every == 0 or is_eval or step == total:
                entry = {
                    "step": step,
                    "epoch": round(step / schedule.steps_per_epoch, 3),
                    "loss": sum(recent) / len(recent),
                    "lr": engine.lr(),
                    # agreement with the training targets (hard), on the batches since the last point, as each
                    # was trained (before its update): how closely the run fits its supervision
                    "train_agreement": agreed[0] / agreed[1] if agreed[1] else None,
                    "steps_per_s": (step - first_step) / (time.perf_counter() - start),
                }
                recent, agreed = [], [0, 0]
                trajectory.record(
                    {**entry, **(run_eval(model, evaluate, settings.dropout) if is_eval else {})}
                )
            if (
                resume_dir
                and settings.checkpoint_every
                and step % settings.checkpoint_every == 0
                and step < total
            ):
                resumable.save(engine, step, trajectory.history)
        seconds = time.perf_counter() - start
        final = run_eval(model, evaluate, settings.dropout) if evaluate and evaluate_at_end else {}
        if final:
            trajectory.record({"step": step, "epoch": float(settings.epochs), **final})
    resumable.finish()
    trained = (step - first_step) * settings.batch_size
    return {
        "steps": step,
        "train_seconds": seconds,
        "samples_per_s": trained / seconds if seconds else 0.0,
        **final,
    }


def compute_precision(engine, examples: Examples) -> str:
    if engine.bf16:
        return "bf16 (DeepSpeed's bf16 mode, fp32 master weights)"
    return "bf16 autocast (fp32 master weights)" if examples.bf16 else "fp32"


def optimizer_step(
    engine,
    examples: Examples,
    batch: list[int],
    loss_fn,
    minibatch_size: int,
    ctx: LossContext,
    group_by_length: bool = True,
) -> tuple[float, int, int]:
    """One optimizer step over `batch`, accumulating gradients over this rank's minibatches (consecutive examples
    of its share, so a batch ordered by length pads each minibatch to a near-equal length); returns the batch's
    mean loss (estimated from this rank's share when there are several ranks), and how many of this rank's examples
    the model's answers agreed with the hard targets on, of how many.

    An empty minibatch (a rank with nothing left of a short batch) still runs a forward pass on a stand-in row with
    zero weight, because under ZeRO-3 every forward pass gathers weights collectively.
    """
    micro = examples.minibatches(batch, minibatch_size, engine.rank, engine.world, group_by_length)
    targets = examples.targets
    # With dropout on (the module in train mode), each minibatch's gradient pass replays the random state of its
    # threshold pass, so that both see the same dropout masks and the threshold is that of the predictions the loss
    # is computed on. In eval mode the passes are deterministic: no state to read (on a GPU, every device's).
    states, replay = [], engine.module.training
    if loss_fn.needs_batch_threshold and (len(micro) > 1 or engine.world > 1):
        # The threshold must see the whole batch, not one minibatch: one extra forward pass, no grad.
        p1 = []
        with torch.no_grad():
            for mb in micro:
                if replay:
                    states.append(rng_state())
                p1.append(
                    torch.softmax(examples.logits(engine, mb or batch[:1]).float(), -1)[
                        : len(mb), 1
                    ]
                )
        mine = [i for mb in micro for i in mb]
        ctx.threshold = loss_fn.batch_threshold(
            engine.gather(torch.cat(p1)), engine.gather(targets[mine])
        )
    # summed on the device and read once a step: a read per pass would wait for the device each time
    batch_loss = torch.zeros((), dtype=torch.float64, device=examples.device)
    n_agreed = torch.zeros((), dtype=torch.long, device=examples.device)
    for k, mb in enumerate(micro):
        weight = len(mb) / len(batch) * engine.world  # the engine averages gradients over ranks
        real = len(mb)  # 0 for a stand-in row
        mb = mb or batch[:1]
        if states:
            set_rng_state(states[k])
        logits = examples.logits(engine, mb)
        if (
            loss_fn.needs_batch_threshold and ctx.threshold is None
        ):  # one minibatch is the whole batch
            ctx.threshold = loss_fn.batch_threshold(
                torch.softmax(logits.detach().float(), -1)[:, 1], targets[mb]
            )
        # a generative task's own answers, from the same forward pass (w2s.models.answerer)
        ctx.own_logprobs = getattr(engine.module, "last_own_logprobs", None)
        loss = loss_fn(logits, targets[mb], ctx) * weight
        engine.backward(loss)
        batch_loss += loss.detach().double()
        matches = getattr(
            engine.module, "last_matches", None
        )  # a generative task's (w2s.models.answerer)
        if matches is not None:
            n_agreed += matches[:real].sum()
        else:
            answers = logits.detach()[:real].argmax(-1)
            n_agreed += (answers == (targets[mb[:real]] > 0.5).long()).sum()
    engine.step()
    return batch_loss.item(), int(n_agreed), sum(map(len, micro))


def run_eval(model, evaluate, dropout: str) -> dict:
    model.eval()
    with torch.no_grad():
        result = evaluate(model)
    training_mode(model, dropout)
    return result
