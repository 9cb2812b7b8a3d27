"""Generative finetuning: before classification finetuning, a model is finetuned as a language model on a task's
texts, never its labels (the paper's setting: the strong model is adapted to the task's distribution without
supervision), and saved as a Hugging Face checkpoint the classification runs start from.

A model entry that trains with DeepSpeed finetunes here the same way, in every process of the launcher
(w2s.process.launch.generative_job): each process takes its share of each batch in minibatches of the entry's
minibatch_size, ZeRO partitions the optimizer state (and under ZeRO-3 the weights), and rank 0 saves the model."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from w2s.columns import COMPLETIONS
from w2s.errors import W2SError
from w2s.io import atomic_path, parquet_columns, read_parquet
from w2s.models.activations import fuse_activations
from w2s.models.classifier import DTYPES, load_tokenizer
from w2s.models.dtypes import TRAINING_DTYPE
from w2s.models.paths import local_model_dir
from w2s.models.tokens import capped_length, encode, pad_batch
from w2s.training.distributed import (
    DeepSpeedEngine,
    gathered_state,
    init_distributed,
    master_state,
)
from w2s.training.loop import LocalEngine
from w2s.training.runtime import (
    bf16_enabled,
    device,
    rank_minibatches,
    seed_everything,
    use_threads,
)
from w2s.training.settings import TrainSettings


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


def token_loss_sum(model, rows: list[list[int]], pad_id: int, dev, bf16: bool) -> torch.Tensor:
    """The summed next-token cross-entropy over the real tokens of a padded batch (the model in bf16 autocast where
    `bf16`, the loss in fp32). The fp32 log-probabilities over the vocabulary exist for one row at a time: each
    row's loss is recomputed from its logits in the backward pass instead of kept (at 1024 tokens and Qwen2.5's
    151,936-token vocabulary that is 1.9 GB a row, not the batch's 14 bytes per token and entry)."""
    input_ids, mask = (t.to(dev) for t in pad_batch(rows, pad_id))
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=input_ids, attention_mask=mask).logits
    targets = input_ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
    return sum(
        checkpoint(row_loss_sum, logits[row, :-1], targets[row], use_reentrant=False)
        for row in range(len(rows))
    )


def row_loss_sum(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float(), targets, ignore_index=-100, reduction="sum")


def lm_step(
    engine,
    ids: list[list[int]],
    batch: list[int],
    minibatch_size: int,
    pad_id: int,
    dev,
    bf16: bool,
) -> float:
    """One AdamW step on the mean next-token loss over every token the batch predicts, whichever process computes
    which rows: each process weights its minibatches by the whole batch's token count (known to all) times the
    process count, which the engine's gradient average divides out. Returns the batch's mean loss, the same in
    every process. Every process runs as many forward passes (ZeRO-3 gathers weights collectively): a process with
    nothing left runs a stand-in row at weight zero."""
    predicted = max(1, sum(len(ids[i]) - 1 for i in batch))
    local = 0.0
    for mb in rank_minibatches(batch, minibatch_size, engine.rank, engine.world):
        # divided before scaled, so that one process computes exactly the mean a plain cross-entropy would
        rows = [ids[i] for i in mb or batch[:1]]
        loss = (
            token_loss_sum(engine, rows, pad_id, dev, bf16)
            / predicted
            * (engine.world if mb else 0)
        )
        engine.backward(loss)
        local += loss.item()
    engine.step()
    return engine.gather(torch.tensor([local], device=dev)).sum().item() / engine.world


def lm_settings(
    lr: float, batch_size: int, minibatch_size: int, seed: int, autocast: str
) -> TrainSettings:
    """Generative finetuning's recipe for the engines: AdamW without weight decay, a cosine decay from the peak lr
    without warmup, compute in bf16 where `autocast` says (the fields the engines do not read are neutral)."""
    return TrainSettings(
        lr=lr,
        batch_size=batch_size,
        minibatch_size=minibatch_size,
        epochs=1,
        optimizer="adamw",
        weight_decay=0.0,
        warmup_frac=0.0,
        schedule="cosine",
        eval_every=0,
        log_every=0,
        autocast=autocast,
        dropout="model",
        seed=seed,
        checkpoint_every=0,
        group_by_length=False,
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
    deepspeed: dict | None = None,
    minibatch_size: int | None = None,
    log_every: int = 20,
    autocast: str = "off",
) -> dict | None:
    """Finetune `source` as a causal LM on the texts of `split_paths` for `steps` AdamW steps (cosine schedule,
    seeded batches of `batch_size` texts, each process's share in minibatches of `minibatch_size`: by default all
    of it at once) and save it with its tokenizer to `out_dir`. The weights train in fp32 whatever dtype `source`
    was saved in (TRAINING_DTYPE), in bf16 autocast where `autocast` says (training.autocast). With `deepspeed` (a
    model entry's launch layout), this is one process of the launcher: ZeRO at its stage, rank 0 writing. Returns a
    summary (None off rank 0)."""
    from transformers import AutoModelForCausalLM

    use_threads(threads)
    if deepspeed:
        init_distributed()
    seed_everything(seed)
    tokenizer = load_tokenizer(source, trust_remote_code)
    try:  # safetensors only, as everywhere
        model = AutoModelForCausalLM.from_pretrained(
            local_model_dir(source),
            dtype=DTYPES[TRAINING_DTYPE],
            trust_remote_code=trust_remote_code,
            use_safetensors=True,
        )
    except (OSError, ValueError) as exc:
        raise W2SError(f"could not load model {source!r} as a causal LM: {exc}") from None
    fuse_activations(model)
    texts = task_texts(split_paths)
    max_length = capped_length(model.config, max_length)  # as the classification runs cap it
    ids, truncated = encode(texts, tokenizer, max_length)
    dev = device()
    settings = lm_settings(lr, batch_size, minibatch_size or batch_size, seed, autocast)
    if deepspeed:
        engine = DeepSpeedEngine(model, settings, steps, deepspeed["stage"], deepspeed["offload"])
    else:
        engine = LocalEngine(model, settings, steps)
    bf16 = (
        bf16_enabled(autocast, dev) and not engine.bf16
    )  # autocast, unless the module computes in bf16
    model.train()  # after the engine is made: a DeepSpeed engine may set its own mode
    rng = random.Random(f"generative:{seed}")
    order: list[int] = []
    if engine.rank == 0:
        layout = f", {engine.world} processes (ZeRO-{deepspeed['stage']})" if deepspeed else ""
        layout += ", bf16 autocast" if bf16 else ", DeepSpeed bf16" if engine.bf16 else ""
        print(
            f"generative finetuning of {source} for {steps} steps, batch {batch_size}{layout}, on {len(texts)} texts "
            f"of {len(split_paths)} splits ({truncated} truncated to {max_length} tokens), labels unread",
            flush=True,
        )
    start = time.perf_counter()
    for step in range(1, steps + 1):
        if len(order) < batch_size:  # a new pass over the texts, in a new seeded order
            order = list(range(len(ids)))
            rng.shuffle(order)
        batch, order = order[:batch_size], order[batch_size:]
        lr_now = engine.lr()
        loss = lm_step(
            engine, ids, batch, settings.minibatch_size, tokenizer.pad_token_id, dev, bf16
        )
        if not math.isfinite(loss):  # the same loss in every process: all stop together
            raise W2SError(
                f"generative finetuning diverged: the loss is {loss} at step {step} of {steps} "
                f"(learning rate {lr_now:.3g} at this step of the schedule, peak {lr:g}); lower "
                "generative_finetune.lr"
            )
        if engine.rank == 0 and (step % log_every == 0 or step == steps):
            print(
                f"step {step}/{steps} | loss {loss:.4f} | {step / (time.perf_counter() - start):.1f} steps/s",
                flush=True,
            )
    # under ZeRO-3 or in DeepSpeed's bf16 mode the (fp32 master) weights gathered onto rank 0, tied ones once (as
    # save_pretrained writes a plain model)
    state = None
    names = {n for n, _ in model.named_parameters()} | {n for n, _ in model.named_buffers()}
    if engine.bf16:
        state = master_state(engine.module, engine.rank, names)
    elif deepspeed and deepspeed["stage"] == 3:
        state = gathered_state(engine.module, engine.rank, names)
    if engine.rank != 0:
        return None
    if state is None:
        model.cpu()
    with atomic_path(Path(out_dir)) as tmp:
        engine.module.save_pretrained(tmp, state_dict=state, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return {
        "steps": steps,
        "final_loss": loss,
        "n_texts": len(texts),
        "n_truncated": truncated,
        "max_length": max_length,
    }
