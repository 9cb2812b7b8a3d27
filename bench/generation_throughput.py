"""Greedy generation throughput: answers per second batched (with the KV cache) against one prompt at a time, side
by side in one run (the two alternate, `--repeats` times, so machine noise falls on both), on several workloads:

- chess: configs/chess.yaml's largest chess LM (GPT-2, hidden 128 x 2 layers), prompts of 60-120 tokens (that
  config's transcripts, one byte a token), 7 new tokens (a space, a SAN move and its stop);
- chess, prompt only: the same with 1 new token, the forward pass over the prompts alone, which batching can
  speed up only as far as bigger matrix products run faster: the bound on the chess workload's ratio;
- chess, long answers: the same prompts, 32 new tokens;
- world questions: configs/world_questions.yaml's models (hidden 64 x 2 layers), prompts of 6 tokens
  (`e0042=`), 2 new tokens (the digit and its stop).

No stop token here, so both sides generate the same number of tokens, and the answers must be identical. A
benchmark, not a test: nothing is asserted.

    python bench/generation_throughput.py [--batch-size 32] [--prompts 128] [--threads 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from dataclasses import dataclass

import torch
from stamp import commit
from transformers import AutoModelForCausalLM

from w2s.models.build import build_model
from w2s.training.generate import greedy_generate


@dataclass(frozen=True)
class Workload:
    name: str
    hidden: int
    prompt_tokens: tuple[int, int]  # shortest, longest
    new_tokens: int


WORKLOADS = (
    Workload("chess", 128, (60, 120), 7),
    Workload("chess, prompt only", 128, (60, 120), 1),
    Workload("chess, long answers", 128, (60, 120), 32),
    Workload("world questions", 64, (6, 6), 2),
)


def measure(workload: Workload, args, folder: str) -> tuple[float, float, int]:
    """(answers/s one at a time, answers/s batched, answers identical on both sides)."""
    path = build_model(
        f"{folder}/{workload.hidden}", "gpt2", workload.hidden, 2, 4, max_position=256, seed=0
    )
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    rng = random.Random(0)
    prompts = [
        [rng.randrange(3, 250) for _ in range(rng.randint(*workload.prompt_tokens))]
        for _ in range(args.prompts)
    ]
    rates = {1: [], args.batch_size: []}
    answers = {}
    for _ in range(args.repeats):
        for batch in rates:
            start = time.perf_counter()
            answers[batch] = greedy_generate(model, prompts, 0, [], workload.new_tokens, batch)
            rates[batch].append(len(prompts) / (time.perf_counter() - start))
    same = sum(a.tokens == b.tokens for a, b in zip(answers[1], answers[args.batch_size]))
    return statistics.median(rates[1]), statistics.median(rates[args.batch_size]), same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"# Greedy generation throughput ({commit()}, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, {args.threads} threads)\n"
    )
    print(
        f"GPT-2s of 2 layers, {args.prompts} prompts per workload, batch 1 against batch "
        f"{args.batch_size}, median of {args.repeats} alternating repeats\n"
    )
    print(
        "| workload | hidden | prompt tokens | new tokens | answers/s, one at a time | answers/s, batched "
        "| batched / one at a time | identical answers |\n|---|---|---|---|---|---|---|---|"
    )
    with tempfile.TemporaryDirectory() as folder:
        for w in WORKLOADS:
            one, many, same = measure(w, args, folder)
            low, high = w.prompt_tokens
            print(
                f"| {w.name} | {w.hidden} | {low if low == high else f'{low}-{high}'} | {w.new_tokens} "
                f"| {one:.1f} | {many:.1f} | **{many / one:.1f}x** | {same} of {args.prompts} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
