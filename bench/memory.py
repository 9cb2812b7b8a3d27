"""Memory of one training step with and without gradient checkpointing, side by side.

    python bench/memory.py [--arch gpt2] [--hidden 256] [--layers 8] [--batch 16] [--tokens 256] [--rounds 3]
                           [--device cpu|cuda]

Builds a random model of that shape once, then, in interleaved rounds, runs one forward and backward pass over a
batch of random tokens in a fresh process per setting (so each process's peak resident memory is its own) and
prints: the bytes autograd keeps for the backward pass (exact), the process's peak memory above what it held after
loading the model (resident memory on the CPU, ru_maxrss; allocated GPU memory with --device cuda), and the step's
wall time. A benchmark, not a test: compare the columns of
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

from stamp import commit

REPO = Path(__file__).resolve().parents[1]


def one_step(model_dir: str, recompute: bool, batch: int, tokens: int, device: str) -> dict:
    import torch

    from w2s.models.classifier import Classifier
    from w2s.models.recompute import recompute_layers

    torch.set_num_threads(1)
    model = Classifier.load(model_dir, head_init="random")
    if recompute:
        recompute_layers(model.backbone)
    model.eval().to(device)  # dropout off trains in eval mode
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(
        3, model.backbone.config.vocab_size, (batch, tokens), generator=generator
    ).to(device)
    mask = torch.ones_like(ids)
    kept = []

    def pack(tensor):
        kept.append(tensor.numel() * tensor.element_size())
        return tensor

    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    loaded = (
        torch.cuda.memory_allocated()
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    start = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = model(ids, mask).logsumexp(-1).mean()
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = (
        torch.cuda.max_memory_allocated()
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    return {
        "kept_mib": sum(kept) / 2**20,
        "peak_above_load_mib": (peak - loaded) / 2**20,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", default="gpt2")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_dir, recompute = json.loads(args.child)
        print(json.dumps(one_step(model_dir, recompute, args.batch, args.tokens, args.device)))
        return

    from w2s.models.build import build_model

    model_dir = str(
        build_model(
            Path(tempfile.mkdtemp(prefix="w2s-memory-")) / "model",
            args.arch,
            args.hidden,
            args.layers,
            max(2, args.hidden // 64),
            max_position=args.tokens,
            seed=0,
        )
    )
    results: dict[bool, list[dict]] = {False: [], True: []}
    for _ in range(args.rounds):
        for recompute in (False, True):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    json.dumps([model_dir, recompute]),
                    "--batch",
                    str(args.batch),
                    "--tokens",
                    str(args.tokens),
                    "--device",
                    args.device,
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
            ).stdout
            results[recompute].append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"{args.arch}, hidden {args.hidden} x {args.layers} layers, batch {args.batch} x {args.tokens} tokens, "
        f"fp32, {args.device} (one CPU thread), {args.rounds} interleaved rounds (medians), commit {commit()}"
    )
    peak = "peak GPU above load" if args.device == "cuda" else "peak RSS above load"
    print(f"{'gradient checkpointing':<24}{'kept for backward':>20}{peak:>22}{'step time':>12}")
    medians = {}
    for recompute, runs in results.items():
        medians[recompute] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        m = medians[recompute]
        print(
            f"{'on' if recompute else 'off':<24}{m['kept_mib']:>16.1f} MiB{m['peak_above_load_mib']:>18.1f} MiB"
            f"{m['seconds']:>10.2f} s"
        )
    off, on = medians[False], medians[True]

    def ratio(key: str) -> str:  # a tiny model may not move the peak at all
        return f"{on[key] / off[key]:.3f}" if off[key] else "n/a (no growth without it)"

    print(
        f"on / off: kept {ratio('kept_mib')}, {peak} {ratio('peak_above_load_mib')}, step time {ratio('seconds')}"
    )


if __name__ == "__main__":
    main()
