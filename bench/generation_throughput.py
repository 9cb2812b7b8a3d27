"""Greedy generation throughput: answers per second batched (with the KV cache) against one prompt at a time, side
by side in one run (the two alternate, `--repeats` times, so machine noise falls on both).

A GPT-2 built from config, by default the size of configs/chess.yaml's largest chess LM (hidden 128 x 2 layers),
prompts of 60-120 tokens (that config's transcripts, one character a token, are of that length), answers of
`--new-tokens` tokens (a SAN move and its stop; no stop token here, so both sides generate the same number of
tokens). A benchmark, not a test: nothing is asserted.

    python bench/generation_throughput.py [--batch-size 32] [--prompts 128] [--threads 2] [--hidden 128]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time

import torch
from stamp import commit
from transformers import AutoModelForCausalLM

from w2s.models.build import build_model
from w2s.training.generate import greedy_generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=7)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        path = build_model(folder, "gpt2", args.hidden, args.layers, 4, max_position=256, seed=0)
        model = AutoModelForCausalLM.from_pretrained(path).eval()
    rng = random.Random(0)
    prompts = [
        [rng.randrange(3, 250) for _ in range(rng.randint(60, 120))] for _ in range(args.prompts)
    ]
    rates = {1: [], args.batch_size: []}
    answers = {}
    for _ in range(args.repeats):
        for batch in rates:
            start = time.perf_counter()
            answers[batch] = greedy_generate(model, prompts, 0, [], args.new_tokens, batch)
            rates[batch].append(len(prompts) / (time.perf_counter() - start))
    same = sum(a.tokens == b.tokens for a, b in zip(answers[1], answers[args.batch_size]))
    one, many = (statistics.median(rates[b]) for b in rates)
    print(
        f"# Greedy generation throughput ({commit()}, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}, {args.threads} threads)\n"
    )
    print(
        f"GPT-2 {args.hidden} x {args.layers} layers, {args.prompts} prompts of 60-120 tokens, "
        f"{args.new_tokens} new tokens each, median of {args.repeats} alternating repeats\n"
    )
    print("| batch | answers/s |\n|---|---|")
    print(f"| 1 | {one:.1f} |\n| {args.batch_size} | {many:.1f} |\n")
    print(
        f"batched / one at a time: **{many / one:.1f}x**; identical answers: {same} of {len(prompts)}"
    )


if __name__ == "__main__":
    main()
