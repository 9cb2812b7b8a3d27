"""Training throughput of the finetuning loop, fp32 against bf16 autocast, measured side by side in one run.

    python bench/train_throughput.py [--arch gpt2] [--hidden 128] [--layers 2] [--length 128] [--repeats 3]

Runs on CUDA when available, else on the CPU. Prints samples/s for each precision (best of --repeats, runs
interleaved so that machine noise hits both) and the bf16/fp32 ratio.
"""

from __future__ import annotations

import argparse
import tempfile

import torch

from w2s.build import build_model
from w2s.losses import XentLoss
from w2s.model import Classifier
from w2s.train import TrainSettings, train


def one_run(path, autocast: str, n: int, length: int) -> float:
    model = Classifier.load(str(path), head_init="random")
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 250, (n, length), generator=generator).tolist()
    targets = torch.randint(0, 2, (n,), generator=generator).float()
    settings = TrainSettings(lr=1e-4, batch_size=32, minibatch_size=32, epochs=1, autocast=autocast, log_every=10**9)
    return train(model, ids, targets, XentLoss(), settings, pad_id=256)["samples_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="gpt2")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--examples", type=int, default=640)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = build_model(tmp, args.arch, args.hidden, args.layers, args.heads, max_position=args.length)
        one_run(path, "off", 64, args.length)  # warm-up: first-call allocations and kernel selection
        best = {"off": 0.0, "bf16": 0.0}
        for _ in range(args.repeats):
            for autocast in best:
                best[autocast] = max(best[autocast], one_run(path, autocast, args.examples, args.length))
    device = "cuda" if torch.cuda.is_available() else f"cpu ({args.threads} threads)"
    print(f"{args.arch} hidden {args.hidden} x {args.layers} layers, {args.length} tokens, batch 32, {device}")
    print(f"fp32: {best['off']:8.1f} samples/s")
    print(f"bf16: {best['bf16']:8.1f} samples/s")
    print(f"bf16 / fp32 = {best['bf16'] / best['off']:.2f}x")


if __name__ == "__main__":
    main()
