"""Memory of one training step with and without gradient checkpointing, side by side.

    python bench/memory.py [--arch gpt2] [--hidden 256] [--layers 8] [--batch 16] [--tokens 256] [--rounds 3]

Builds a random model of that shape once, then, in interleaved rounds, runs one forward and backward pass over a
batch of random tokens in a fresh process per setting (so each process's peak resident memory is its own) and
prints: the bytes autograd keeps for the backward pass (exact), the process's peak resident memory above what it
held after loading the model (ru_maxrss), and the step's wall time. A benchmark, not a test: compare the columns of
one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_step(model_dir: str, recompute: bool, batch: int, tokens: int) -> dict:
    import torch

    from w2s.models.classifier import Classifier
    from w2s.models.recompute import recompute_layers

    torch.set_num_threads(1)
    model = Classifier.load(model_dir, head_init="random")
    if recompute:
        recompute_layers(model.backbone)
    model.eval()  # dropout off trains in eval mode
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, model.backbone.config.vocab_size, (batch, tokens), generator=generator)
    mask = torch.ones_like(ids)
    kept = []

    def pack(tensor):
        kept.append(tensor.numel() * tensor.element_size())
        return tensor

    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = model(ids, mask).logsumexp(-1).mean()
    loss.backward()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"kept_mib": sum(kept) / 2**20, "peak_above_load_mib": (peak - loaded) / 1024, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="gpt2")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_dir, recompute = json.loads(args.child)
        print(json.dumps(one_step(model_dir, recompute, args.batch, args.tokens)))
        return

    from w2s.models.build import build_model

    model_dir = str(build_model(Path(tempfile.mkdtemp(prefix="w2s-memory-")) / "model", args.arch, args.hidden,
                                args.layers, max(2, args.hidden // 64), max_position=args.tokens, seed=0))
    results: dict[bool, list[dict]] = {False: [], True: []}
    for _ in range(args.rounds):
        for recompute in (False, True):
            out = subprocess.run([sys.executable, __file__, "--child", json.dumps([model_dir, recompute]),
                                  "--batch", str(args.batch), "--tokens", str(args.tokens)],
                                 check=True, capture_output=True, text=True, cwd=REPO).stdout
            results[recompute].append(json.loads(out.strip().splitlines()[-1]))
    commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    print(f"{args.arch}, hidden {args.hidden} x {args.layers} layers, batch {args.batch} x {args.tokens} tokens, "
          f"fp32, one thread, {args.rounds} interleaved rounds (medians), commit {commit}")
    print(f"{'gradient checkpointing':<24}{'kept for backward':>20}{'peak RSS above load':>22}{'step time':>12}")
    medians = {}
    for recompute, runs in results.items():
        medians[recompute] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        m = medians[recompute]
        print(f"{'on' if recompute else 'off':<24}{m['kept_mib']:>16.1f} MiB{m['peak_above_load_mib']:>18.1f} MiB"
              f"{m['seconds']:>10.2f} s")
    off, on = medians[False], medians[True]
    print(f"on / off: kept {on['kept_mib'] / off['kept_mib']:.3f}, peak RSS above load "
          f"{on['peak_above_load_mib'] / off['peak_above_load_mib']:.3f}, "
          f"step time {on['seconds'] / off['seconds']:.2f}")


if __name__ == "__main__":
    main()
