"""LoRA against full finetuning on one built model: trainable parameters, checkpoint size, and one optimizer step's
time and peak memory, side by side.

    python bench/lora.py [--hidden 768] [--layers 14] [--rank 8] [--batch 4] [--tokens 64] [--rounds 3]
                         [--out bench/results/lora.md]

Builds a random GPT-2-style model of that shape (the defaults give about 100M parameters), saves it as a w2s
checkpoint both ways (the full model; the adapters with peft's default targets, c_attn, and the head), then runs one
forward, backward and Adam step on a batch of random tokens in a fresh process per setting, interleaved over rounds,
and reports the medians: wall time and peak resident memory above the loaded model (one CPU thread, fp32).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stamp import commit

REPO = Path(__file__).resolve().parents[1]


def ratio(a: float, b: float) -> str:  # a tiny model may not move the peak at all
    return f"{a / b:.2f}" if b else "n/a"


def lora_settings(rank: int) -> dict:
    return {"r": rank, "alpha": 2 * rank, "dropout": 0.0}


def one_step(model_dir: str, rank: int, batch: int, tokens: int) -> dict:
    """Peak memory and time of one optimizer step, full (rank 0) or with LoRA adapters of `rank`."""
    import torch

    from w2s.models.classifier import Classifier

    torch.set_num_threads(1)
    model = Classifier.load(model_dir, head_init="random")
    if rank:
        model.add_lora(lora_settings(rank), model_dir)
    model.eval()  # dropout off trains in eval mode
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, model.backbone.config.vocab_size, (batch, tokens), generator=generator)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    model(ids, torch.ones_like(ids)).logsumexp(-1).mean().backward()
    optimizer.step()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": seconds, "peak_above_load_mib": (peak - loaded) / 2**20}


def checkpoints(model_dir: str, rank: int, out: Path) -> dict:
    """Parameters (all, trainable) and checkpoint bytes of both kinds."""
    from w2s.models.classifier import Classifier, load_tokenizer

    tokenizer = load_tokenizer(model_dir)
    found = {}
    for name, lora in (("full", 0), ("lora", rank)):
        model = Classifier.load(model_dir)
        if lora:
            model.add_lora(lora_settings(lora), model_dir)
        model.save(out / name, tokenizer)
        found[name] = {
            "params": sum(p.numel() for p in model.parameters()),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "checkpoint_bytes": sum(f.stat().st_size for f in (out / name).iterdir()),
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=14)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", help="also write the table to this markdown file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model_dir, rank = json.loads(args.child)
        print(json.dumps(one_step(model_dir, rank, args.batch, args.tokens)))
        return

    from w2s.models.build import build_model

    work = Path(tempfile.mkdtemp(prefix="w2s-lora-"))
    model_dir = str(
        build_model(
            work / "model",
            "gpt2",
            args.hidden,
            args.layers,
            max(2, args.hidden // 64),
            max_position=max(args.tokens, 64),
            seed=0,
        )
    )
    sizes = checkpoints(model_dir, args.rank, work)
    steps: dict[str, list[dict]] = {"full": [], "lora": []}
    for _ in range(args.rounds):
        for name, rank in (("full", 0), ("lora", args.rank)):
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    json.dumps([model_dir, rank]),
                    "--batch",
                    str(args.batch),
                    "--tokens",
                    str(args.tokens),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=REPO,
            ).stdout
            steps[name].append(json.loads(out.strip().splitlines()[-1]))
    medians = {
        name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for name, runs in steps.items()
    }

    lines = [
        f"GPT-2-style, hidden {args.hidden} x {args.layers} layers, byte vocabulary; LoRA r {args.rank}, alpha "
        f"{2 * args.rank}, on c_attn (peft's default). One optimizer step (Adam) on {args.batch} x {args.tokens} "
        f"tokens, fp32, one CPU thread, {args.rounds} interleaved rounds (medians). Commit {commit()}, "
        f"{platform.processor() or platform.machine()}, {platform.node()}.",
        "",
        "| | parameters | trainable | checkpoint | step time | peak RSS above load |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("full", "lora"):
        s, m = sizes[name], medians[name]
        lines.append(
            f"| {name} | {s['params']:,} | {s['trainable']:,} ({s['trainable'] / s['params']:.2%}) | "
            f"{s['checkpoint_bytes'] / 2**20:.1f} MiB | {m['seconds']:.2f} s | "
            f"{m['peak_above_load_mib']:.0f} MiB |"
        )
    full, lora = sizes["full"], sizes["lora"]
    lines += [
        "",
        f"LoRA / full: trainable {lora['trainable'] / full['trainable']:.4f}, checkpoint "
        f"{lora['checkpoint_bytes'] / full['checkpoint_bytes']:.4f}, step time "
        f"{medians['lora']['seconds'] / medians['full']['seconds']:.2f}, peak memory "
        f"{ratio(medians['lora']['peak_above_load_mib'], medians['full']['peak_above_load_mib'])}",
    ]
    print("\n".join(lines))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        title = "# LoRA against full finetuning (`python bench/lora.py`)"
        Path(args.out).write_text("\n".join([title, "", *lines]) + "\n")


if __name__ == "__main__":
    main()
