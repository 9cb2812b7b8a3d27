"""Training throughput of the finetuning loop: fp32 against bf16 autocast, and optionally the plain engine against
DeepSpeed ZeRO-2 and ZeRO-3 (one process) and LoRA adapters (r 8, plain engine), measured side by side in one run.

    python bench/train_throughput.py [--arch gpt2] [--hidden 128] [--layers 2] [--length 128] [--repeats 3]
                                     [--engines plain,zero2,zero3,lora] [--out FILE]

Runs on CUDA when available, else on the CPU. Prints samples/s for each (engine, precision) pair (best of
--repeats, runs interleaved so that machine noise hits all alike), each one's ratio to plain fp32, and on a GPU of
known peak (or with --peak-tflops FP32,BF16) the model FLOPs utilisation: 6 N tokens/s over the peak (4 N for LoRA,
whose frozen weights get no weight gradients), N the parameter count. --out also writes the table to FILE
(markdown).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from process_group import join_single_process_group
from recipe import recipe

from w2s.models.build import build_model
from w2s.models.classifier import Classifier
from w2s.training.loop import LocalEngine, train
from w2s.training.losses import XentLoss

ZERO_STAGES = {"zero2": 2, "zero3": 3}
ENGINES = ("plain", *ZERO_STAGES, "lora")
LORA = {"r": 8, "alpha": 16, "dropout": 0.0}
# Dense peak TFLOPS by GPU name (fp32 without tensor cores, bf16 tensor cores), from the vendors' data sheets.
PEAK_TFLOPS = {"H200": (67.0, 989.0), "H100": (67.0, 989.0), "A100": (19.5, 312.0)}


def one_run(path, engine: str, autocast: str, n: int, length: int) -> float:
    from w2s.training.distributed import DeepSpeedEngine

    model = Classifier.load(str(path), head_init="random")
    if engine == "lora":
        model.add_lora(LORA, str(path))
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 250, (n, length), generator=generator).tolist()
    targets = torch.randint(0, 2, (n,), generator=generator).float()
    settings = recipe(
        lr=1e-4,
        batch_size=32,
        minibatch_size=32,
        seed=0,
        epochs=1,
        autocast=autocast,
        log_every=10**9,
        checkpoint_every=0,
    )
    make_engine = (
        DeepSpeedEngine.factory(ZERO_STAGES[engine], False)
        if engine in ZERO_STAGES
        else LocalEngine
    )
    return train(model, ids, targets, XentLoss(), settings, pad_id=256, make_engine=make_engine)[
        "samples_per_s"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--arch", default="gpt2")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--examples", type=int, default=640)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engines", default="plain", help=f"comma-separated: {', '.join(ENGINES)}")
    parser.add_argument(
        "--peak-tflops", help="FP32,BF16 peak TFLOPS of the device (default: by GPU name)"
    )
    parser.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args()
    engines = args.engines.split(",")
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"--engines: unknown {sorted(unknown)}; expected {', '.join(ENGINES)}")
    torch.set_num_threads(args.threads)
    if set(engines) & set(ZERO_STAGES):
        join_single_process_group()
    runs = [(engine, autocast) for engine in engines for autocast in ("off", "bf16")]
    with tempfile.TemporaryDirectory() as tmp:
        path = build_model(
            tmp, args.arch, args.hidden, args.layers, args.heads, max_position=args.length
        )
        parameters = sum(p.numel() for p in Classifier.load(str(path)).parameters())
        for (
            engine
        ) in engines:  # warm-up: first-call allocations, kernel selection, DeepSpeed's op builds
            one_run(path, engine, "off", 64, args.length)
        best = dict.fromkeys(runs, 0.0)
        for _ in range(args.repeats):
            for engine, autocast in runs:
                best[engine, autocast] = max(
                    best[engine, autocast],
                    one_run(path, engine, autocast, args.examples, args.length),
                )
    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available()
        else f"cpu ({args.threads} threads)"
    )
    peak = (
        tuple(map(float, args.peak_tflops.split(",")))
        if args.peak_tflops
        else next((p for name, p in PEAK_TFLOPS.items() if name in device), None)
    )
    base = best.get(("plain", "off")) or best[runs[0]]

    def mfu(engine: str, autocast: str) -> str:
        if not peak:
            return "-"
        flops = (4 if engine == "lora" else 6) * parameters * best[engine, autocast] * args.length
        return f"{flops / (peak[autocast != 'off'] * 1e12):.1%}"

    lines = [
        f"{args.arch} hidden {args.hidden} x {args.layers} layers ({parameters / 1e6:.1f}M parameters), "
        f"{args.length} tokens, batch 32, {device}; best of {args.repeats}; peak TFLOPS fp32/bf16 "
        f"{'/'.join(map(str, peak)) if peak else 'unknown'}",
        "",
        f"| engine | precision | samples/s | vs {runs[0][0]} fp32 | MFU |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {engine} | {'fp32' if autocast == 'off' else 'bf16'} | {best[engine, autocast]:.1f} | "
        f"{best[engine, autocast] / base:.2f}x | {mfu(engine, autocast)} |"
        for engine, autocast in runs
    ]
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
