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
A chess world's model learns its games whole (next-token cross-entropy over every character of a game, its small
vocabulary in full), `known_fraction` being the share of the corpus games it sees (the first ones: nested by share).
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import polars as pl
import torch
import torch.nn.functional as F

from w2s.data.facts import FactWorld
from w2s.data.world import CORPUS, FACT_WINDOW, TASK, TOKENIZER, load_world
from w2s.io import atomic_path
from w2s.models.activations import fuse_activations
from w2s.models.build import random_model
from w2s.models.classifier import load_tokenizer
from w2s.models.tokens import pad_batch
from w2s.training.runtime import device, use_threads


def corpus_batches(lines: list[str], batch_size: int, seed: int):
    """Batches of corpus lines in a seeded order, reshuffled each pass."""
    rng = random.Random(f"pretrain:{seed}")
    while True:
        order = list(range(len(lines)))
        rng.shuffle(order)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield [lines[i] for i in order[start : start + batch_size]]


class AnswerSymbolsLoss:
    """A fact world's pretraining loss: what follows each statement's "=", over the answer symbols only (module
    docstring). Every corpus line has the same layout, so the prompt (up to and including "=") has a fixed length."""

    def __init__(self, tokenizer, lines: list[str]):
        self.tokenizer = tokenizer
        first = tokenizer(lines[0])["input_ids"]
        self.prompt_tokens = first.index(tokenizer.convert_tokens_to_ids("=")) + 1
        self.symbols = torch.tensor(
            sorted(
                {
                    i
                    for line in lines[:1000]
                    for i in tokenizer(line)["input_ids"][self.prompt_tokens :]
                }
            )
        )
        self.to_symbol = torch.full((len(tokenizer),), -100, dtype=torch.long)
        self.to_symbol[self.symbols] = torch.arange(len(self.symbols))

    def to(self, dev) -> None:
        self.symbols, self.to_symbol = self.symbols.to(dev), self.to_symbol.to(dev)

    def __call__(self, model, batch: list[str], dev) -> torch.Tensor:
        ids = torch.tensor(self.tokenizer(batch)["input_ids"], device=dev)
        hidden = model.base_model(input_ids=ids).last_hidden_state[:, self.prompt_tokens - 1 : -1]
        logits = hidden @ model.get_output_embeddings().weight[self.symbols].T
        return F.cross_entropy(
            logits.reshape(-1, len(self.symbols)),
            self.to_symbol[ids[:, self.prompt_tokens :]].reshape(-1),
        )


class NextTokenLoss:
    """A chess world's pretraining loss: next-token cross-entropy over every token of each game (padding masked),
    over its small character vocabulary."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def to(self, dev) -> None:
        pass

    def __call__(self, model, batch: list[str], dev) -> torch.Tensor:
        input_ids, mask = (
            t.to(dev)
            for t in pad_batch(self.tokenizer(batch)["input_ids"], self.tokenizer.pad_token_id)
        )
        logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1].float()
        targets = input_ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
        return F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100
        )


def corpus_and_loss(world_dir, tokenizer, known_fraction: float, max_position: int):
    """The corpus lines a model sees (its `known_fraction` of them), its loss, and its context window: a fact
    world's statements, or a chess world's games (one a line; a share of the games, nested by share; a window
    that holds the longest game and puzzle)."""
    world = load_world(world_dir)
    text = (Path(world_dir) / CORPUS).read_text()
    if isinstance(world, FactWorld):
        lines = world.visible_lines(text.split(), known_fraction)
        return lines, AnswerSymbolsLoss(tokenizer, lines), max_position
    games = text.splitlines()
    lines = games[: round(known_fraction * len(games))]
    task = pl.read_parquet(Path(world_dir) / TASK)
    longest = max(map(len, [*games, *(task["ctx"] + task["target"] + " ").to_list()]))
    return lines, NextTokenLoss(tokenizer), longest + 1


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
    max_position: int = FACT_WINDOW,
    threads: int | None = None,
    known_fraction: float = 1.0,
) -> dict:
    if threads:
        use_threads(threads)
    tokenizer = load_tokenizer(str(Path(world_dir) / TOKENIZER))
    lines, objective, max_position = corpus_and_loss(
        world_dir, tokenizer, known_fraction, max_position
    )
    dev = device()
    model = random_model(
        arch, hidden_size, num_layers, num_heads, max_position, tokenizer, seed
    ).to(dev)
    fuse_activations(
        model
    )  # as every later stage runs it; the saved checkpoint is the same either way
    objective.to(dev)
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
        loss = objective(model, next(batches), dev)
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
