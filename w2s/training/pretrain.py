"""Pretraining a small causal LM on a synthetic world's corpus, saved as a Hugging Face checkpoint.

The loss covers what follows the "=" of each statement (the prompt is context): the answer digits, the "." and the
source mark, so the model learns the facts and learns to say whether a statement is reliable. Its softmax runs over
the tokens that occur there (digits, ".", marks) only: entity names never follow "=", and leaving their thousands of
unembedding rows out of every step makes pretraining several times faster without changing what the model learns
about the answers.
A model's knowledge is set by its corpus: with `known_fraction` below 1 it sees the statements about that share of
the world's entities only (the same entities for every model of the world, nested by share), so trained to
convergence it knows those facts and nothing about the rest, whatever its seed. `schedule_steps` longer than `steps`
instead stops the run early on its cosine schedule; what such a model knows depends on where a chaotic trajectory
happens to be, so it moves with the seed and the machine.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from w2s.data.world import CORPUS, TOKENIZER, load_world
from w2s.io import atomic_path
from w2s.models.build import random_model
from w2s.models.classifier import load_tokenizer
from w2s.training.runtime import device


def corpus_batches(lines: list[str], batch_size: int, seed: int):
    """Batches of corpus lines in a seeded order, reshuffled each pass."""
    rng = random.Random(f"pretrain:{seed}")
    while True:
        order = list(range(len(lines)))
        rng.shuffle(order)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [lines[i] for i in order[start : start + batch_size]]


def pretrain(
    out_dir: str | Path,
    world_dir: str | Path,
    arch: str,
    hidden_size: int,
    num_layers: int,
    num_heads: int,
    steps: int,
    lr: float,
    batch_size: int = 256,
    schedule_steps: int | None = None,
    seed: int = 0,
    log_every: int = 100,
    max_position: int = 32,
    threads: int | None = None,
    known_fraction: float = 1.0,
) -> dict:
    if threads:
        torch.set_num_threads(threads)
    tokenizer = load_tokenizer(str(Path(world_dir) / TOKENIZER))
    lines = (Path(world_dir) / CORPUS).read_text().split()
    if known_fraction < 1:
        known = load_world(world_dir).known_prompts(known_fraction)
        lines = [line for line in lines if line[: line.index("=") + 1] in known]
    # Every corpus line has the same layout, so the prompt (up to and including "=") has a fixed length.
    first = tokenizer(lines[0])["input_ids"]
    prompt_tokens = first.index(tokenizer.convert_tokens_to_ids("=")) + 1
    symbols = torch.tensor(
        sorted({i for line in lines[:1000] for i in tokenizer(line)["input_ids"][prompt_tokens:]})
    )
    to_symbol = torch.full((len(tokenizer),), -100, dtype=torch.long)
    to_symbol[symbols] = torch.arange(len(symbols))
    dev = device()
    model = random_model(
        arch, hidden_size, num_layers, num_heads, max_position, tokenizer, seed
    ).to(dev)
    symbols, to_symbol = symbols.to(dev), to_symbol.to(dev)
    schedule_steps = schedule_steps or steps
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, schedule_steps) / schedule_steps))
    )
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"pretraining {arch} ({n_params / 1e6:.2f}M parameters) for {steps} of {schedule_steps} scheduled steps, "
        f"batch {batch_size}, {len(lines)} corpus lines (known_fraction {known_fraction})",
        flush=True,
    )
    model.train()
    start = time.perf_counter()
    batches = corpus_batches(lines, batch_size, seed)
    for step in range(1, steps + 1):
        ids = torch.tensor(tokenizer(next(batches))["input_ids"], device=dev)
        hidden = model.base_model(input_ids=ids).last_hidden_state[:, prompt_tokens - 1 : -1]
        logits = hidden @ model.get_output_embeddings().weight[symbols].T
        loss = F.cross_entropy(
            logits.reshape(-1, len(symbols)), to_symbol[ids[:, prompt_tokens:]].reshape(-1)
        )
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step % log_every == 0 or step == steps:
            rate = step / (time.perf_counter() - start)
            print(
                f"step {step}/{steps} | loss {loss.item():.4f} | lr {scheduler.get_last_lr()[0]:.3g} | "
                f"{rate:.1f} steps/s",
                flush=True,
            )
    with atomic_path(out_dir) as tmp:
        model.cpu().save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return {"steps": steps, "final_loss": loss.item(), "seconds": time.perf_counter() - start}
