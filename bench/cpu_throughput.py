"""The project's training loop against a reference-style loop on varied-length texts, side by side in one run.

    python bench/cpu_throughput.py [--examples 256] [--minibatch 8] [--lengths varied|fixed] [--rounds 3]
                                   [--threads 1] [--seed 0] [--out FILE]

Both train the same GPT-2-style model (hidden 256 x 4 layers, built from config) from the same
weights on the same random token sequences (lengths uniform in 20-300, or all of 160 with --lengths fixed, where
grouping by length has nothing to gain and only the loops' own costs differ), with the same example order, batch 32,
Adam and a cosine schedule, one epoch. The reference-style loop is written here the way the paper's released code
trains: each minibatch in the shuffled order, padded to its own longest example, fp32, with GPT-2's GELU in the
elementwise steps of Hugging Face's model code. The project's loop is `w2s.training.loop.train` on the model as w2s
loads it (that GELU in one fused kernel, w2s.models.activations), with its minibatches grouped by length, in fp32 and
with bf16 autocast. Runs are interleaved over rounds (machine noise hits all alike), each round starting with the next
loop (a loop's speed depends a little on the one before it: measured 0.97x against 0.99x with the order swapped); the
table gives the median examples/s, the padded tokens per example each loop computes (from the schedule), and each
one's ratio to the reference.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from recipe import recipe
from stamp import commit
from transformers.activations import NewGELUActivation

from w2s.models.build import build_model
from w2s.models.classifier import Classifier
from w2s.models.tokens import pad_batch
from w2s.training.batches import Examples, Schedule
from w2s.training.loop import train
from w2s.training.losses import XentLoss
from w2s.training.runtime import cpu_has_native_bf16
from w2s.training.settings import TrainSettings, optimizer_and_schedule

BATCH, PAD_ID = 32, 0


FIXED_LENGTH = 160  # the varied lengths' mean


def texts(n: int, seed: int = 0, fixed: bool = False) -> tuple[list[list[int]], torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(20, 301, (n,), generator=generator).tolist()
    if fixed:
        lengths = [FIXED_LENGTH] * n
    ids = [torch.randint(3, 250, (length,), generator=generator).tolist() for length in lengths]
    return ids, torch.randint(0, 2, (n,), generator=generator).float()


def settings(minibatch: int, seed: int, autocast: str = "off", group: bool = True) -> TrainSettings:
    return recipe(
        lr=1e-5,
        batch_size=BATCH,
        minibatch_size=minibatch,
        seed=seed,
        epochs=1,
        autocast=autocast,
        log_every=10**9,
        checkpoint_every=0,
        group_by_length=group,
    )


def reference_loop(
    model: Classifier, ids: list[list[int]], targets: torch.Tensor, minibatch: int, seed: int
) -> None:
    """The reference recipe's loop: the shuffled batch cut into minibatches as it comes, each padded to its own
    longest example, cross-entropy weighted by the minibatch's share of the batch, one Adam step per batch."""
    run = settings(minibatch, seed)
    schedule = Schedule(len(ids), run)
    optimizer, scheduler = optimizer_and_schedule(model, run, schedule.total)
    model.eval()  # dropout off, as the reference trains
    for step in range(schedule.total):
        batch = schedule.batch(step)
        for start in range(0, len(batch), minibatch):
            index = batch[start : start + minibatch]
            input_ids, mask = pad_batch([ids[i] for i in index], PAD_ID)
            logits = model(input_ids, mask)
            loss = (
                torch.nn.functional.cross_entropy(logits, targets[index].long())
                * len(index)
                / len(batch)
            )
            loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)


def padded_per_example(ids, run: TrainSettings) -> float:
    """Tokens the forward passes compute per example (padding included), from the schedule alone."""
    schedule, examples = (
        Schedule(len(ids), run),
        Examples(ids, torch.zeros(len(ids)), PAD_ID, torch.device("cpu"), False),
    )
    total = 0
    for step in range(schedule.total):
        minibatches = examples.minibatches(
            schedule.batch(step), run.minibatch_size, 0, 1, run.group_by_length
        )
        total += sum(len(mb) * max(len(ids[i]) for i in mb) for mb in minibatches)
    return total / len(ids)


def as_released(model: Classifier) -> Classifier:
    """The model as Hugging Face builds it, as the reference code runs it: GPT-2's GELU in elementwise steps, where
    w2s loads it fused (w2s.models.activations)."""
    for module in model.modules():
        for name, child in module.named_children():
            if isinstance(child, torch.nn.GELU):
                setattr(module, name, NewGELUActivation())
    return model


def timed(loop: str, model_dir: str, ids, targets, minibatch: int, seed: int) -> float:
    """Examples per second of one run of `loop` from the built model's weights."""
    model = Classifier.load(model_dir, head_init="random")
    start = time.perf_counter()
    if loop == "reference":
        as_released(model)
        reference_loop(model, ids, targets, minibatch, seed)
    else:
        train(
            model,
            ids,
            targets,
            XentLoss(),
            settings(minibatch, seed, "bf16" if loop == "w2s bf16" else "off"),
            pad_id=PAD_ID,
        )
    return len(ids) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=256)
    parser.add_argument("--minibatch", type=int, default=8)
    parser.add_argument("--lengths", choices=["varied", "fixed"], default="varied")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--seed", type=int, default=0, help="of the texts, their order and the model's weights"
    )
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ids, targets = texts(args.examples, args.seed, args.lengths == "fixed")
    model_dir = str(
        build_model(
            Path(tempfile.mkdtemp(prefix="w2s-cpu-")) / "model",
            "gpt2",
            256,
            4,
            4,
            max_position=320,
            seed=args.seed,
        )
    )
    loops = ["reference", "w2s fp32", "w2s bf16"]
    for loop in loops:  # warm-up: first-call allocations and kernel selection
        timed(loop, model_dir, ids[:BATCH], targets[:BATCH], args.minibatch, args.seed)
    speeds: dict[str, list[float]] = {loop: [] for loop in loops}
    for round_ in range(
        args.rounds
    ):  # each round starts with the next loop: no loop always follows another
        for loop in loops[round_ % len(loops) :] + loops[: round_ % len(loops)]:
            speeds[loop].append(timed(loop, model_dir, ids, targets, args.minibatch, args.seed))
    padded = {
        "reference": padded_per_example(ids, settings(args.minibatch, args.seed, group=False))
    }
    padded["w2s fp32"] = padded["w2s bf16"] = padded_per_example(
        ids, settings(args.minibatch, args.seed)
    )
    real = sum(map(len, ids)) / len(ids)
    reference = statistics.median(speeds["reference"])

    lines = [
        f"GPT-2-style, hidden 256 x 4 layers; {args.examples} random texts of "
        f"{'20-300 tokens' if args.lengths == 'varied' else f'{FIXED_LENGTH} tokens each'} (mean {real:.0f}), "
        f"one epoch, batch {BATCH}, minibatch {args.minibatch}, {args.threads} thread(s), seed {args.seed}, "
        f"{args.rounds} "
        "interleaved rounds, each starting with the next loop (medians; all rounds listed). "
        f"Commit {commit()}, {platform.machine()}, CPU bf16 "
        f"instructions: {'yes' if cpu_has_native_bf16() else 'no'}.",
        "",
        "| loop | examples/s | rounds | padded tokens per example | vs reference |",
        "|---|---|---|---|---|",
    ]
    for loop in loops:
        median = statistics.median(speeds[loop])
        lines.append(
            f"| {loop} | {median:.2f} | {', '.join(f'{s:.2f}' for s in speeds[loop])} | "
            f"{padded[loop]:.0f} | {median / reference:.2f}x |"
        )
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        title = "# Training throughput against a reference-style loop (`python bench/cpu_throughput.py`)"
        args.out.write_text("\n".join([title, "", *lines]) + "\n")


if __name__ == "__main__":
    main()
