"""Generative finetuning: before classification finetuning, a model is finetuned as a language model on a task's
texts, never its labels (the paper's setting: the strong model is adapted to the task's distribution without
supervision), and saved as a Hugging Face checkpoint the classification runs start from."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from w2s.data.pairs import COMPLETIONS
from w2s.errors import W2SError
from w2s.io import atomic_path, parquet_columns, read_parquet
from w2s.models.classifier import load_tokenizer
from w2s.models.paths import local_model_dir
from w2s.models.tokens import capped_length, encode, pad_batch
from w2s.training.runtime import device, seed_everything


def task_texts(split_paths: list) -> list[str]:
    """The texts of a task's splits, in a fixed order: only the text columns are read, so no label can reach the
    model. A comparison's texts are both its transcripts (prefix + each completion, the worse one too, as the
    paper's generative finetuning of reward models does)."""
    texts = []
    for path in split_paths:
        present = parquet_columns(path)
        frame = read_parquet(path, columns=[c for c in ("text", *COMPLETIONS) if c in present])
        if COMPLETIONS[0] in frame.columns:
            texts += [p + c for c in COMPLETIONS for p, c in zip(frame["text"], frame[c])]
        else:
            texts += frame["text"].to_list()
    return texts


def lm_loss(model, rows: list[list[int]], pad_id: int, dev) -> torch.Tensor:
    """Next-token cross-entropy over the real tokens of a padded batch."""
    input_ids, mask = (t.to(dev) for t in pad_batch(rows, pad_id))
    logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1].float()
    targets = input_ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100
    )


def generative_finetune(
    out_dir,
    source: str,
    split_paths: list,
    steps: int,
    lr: float,
    batch_size: int,
    max_length: int,
    seed: int,
    threads: int = 1,
    trust_remote_code: bool = False,
    log_every: int = 20,
) -> dict:
    """Finetune `source` as a causal LM on the texts of `split_paths` for `steps` AdamW steps (cosine schedule,
    seeded batches) and save it with its tokenizer to `out_dir`."""
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(threads)
    seed_everything(seed)
    tokenizer = load_tokenizer(source, trust_remote_code)
    try:  # safetensors only, as everywhere
        model = AutoModelForCausalLM.from_pretrained(
            local_model_dir(source), trust_remote_code=trust_remote_code, use_safetensors=True
        )
    except (OSError, ValueError) as exc:
        raise W2SError(f"could not load model {source!r} as a causal LM: {exc}") from None
    texts = task_texts(split_paths)
    max_length = capped_length(model.config, max_length)  # as the classification runs cap it
    ids, truncated = encode(texts, tokenizer, max_length)
    dev = device()
    model.to(dev).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    rng = random.Random(f"generative:{seed}")
    order: list[int] = []
    print(
        f"generative finetuning of {source} for {steps} steps, batch {batch_size}, on {len(texts)} texts of "
        f"{len(split_paths)} splits ({truncated} truncated to {max_length} tokens), labels unread",
        flush=True,
    )
    start = time.perf_counter()
    for step in range(1, steps + 1):
        if len(order) < batch_size:  # a new pass over the texts, in a new seeded order
            order = list(range(len(ids)))
            rng.shuffle(order)
        batch, order = order[:batch_size], order[batch_size:]
        loss = lm_loss(model, [ids[i] for i in batch], tokenizer.pad_token_id, dev)
        if not math.isfinite(loss.item()):
            raise W2SError(
                f"generative finetuning diverged: the loss is {loss.item()} at step {step} of {steps} "
                f"(learning rate {scheduler.get_last_lr()[0]:.3g}); lower generative_finetune.lr"
            )
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step % log_every == 0 or step == steps:
            print(
                f"step {step}/{steps} | loss {loss.item():.4f} | {step / (time.perf_counter() - start):.1f} steps/s",
                flush=True,
            )
    with atomic_path(Path(out_dir)) as tmp:
        model.cpu().save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return {
        "steps": steps,
        "final_loss": loss.item(),
        "n_texts": len(texts),
        "n_truncated": truncated,
        "max_length": max_length,
    }
