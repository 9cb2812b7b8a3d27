"""Batched greedy generation with the KV cache: a causal LM's own answer to each prompt and its log-probability.

A generative task's weak label is the answer the weak model generates (the chess setting's first move); its
log-probability is what a confidence loss and calibration have to work with. Prompts are batched by length and
left-padded, so every row's next token sits in the last column; each step feeds one token per row through the
cache; a row stops at a stop token (which ends, and is not part of, its answer) or after `max_new_tokens`, and the
batch stops when all its rows have. The prompt pass computes the LM head at the last column only (a 150k-token
vocabulary at every prompt position would cost gigabytes); the model runs in bf16 autocast where asked.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.distributed as dist

from w2s.training.runtime import bf16_enabled, device, rank_and_world, rank_minibatches


@dataclass(frozen=True)
class Generation:
    tokens: list[int]  # the answer's tokens, without the stop token
    logprob: float  # the sum of the generated tokens' log-probabilities, the stop token's included
    stopped: bool  # ended by a stop token (False: cut at max_new_tokens)


@torch.no_grad()
def greedy_generate(
    model,
    ids: list[list[int]],
    pad_id: int,
    stop_ids: set[int] | list[int],
    max_new_tokens: int,
    batch_size: int = 32,
    min_new_tokens: int = 0,
    bf16: bool = False,
) -> list[Generation]:
    """Each prompt's greedy continuation, in input order; a stop token ends an answer only after
    `min_new_tokens` tokens (an answer that starts with a space must not stop at its own first token)."""
    order = sorted(
        range(len(ids)), key=lambda i: len(ids[i])
    )  # batches of similar length: little padding
    out: list[Generation | None] = [None] * len(ids)
    # In a launched job each process generates its share, in as many batches as every other, each decoding step
    # in step with theirs (ZeRO-3 gathers weights collectively in every forward pass); one whose share has run out
    # answers a stand-in row and discards it. The answers are then shared.
    rank, world = rank_and_world()
    for batch in rank_minibatches(order, batch_size, rank, world):
        rows = [ids[i] for i in batch or order[:1]]
        with torch.autocast(device().type, dtype=torch.bfloat16, enabled=bf16):
            generations = _generate_batch(
                model, rows, pad_id, stop_ids, max_new_tokens, min_new_tokens, world > 1
            )
        for i, generation in zip(batch, generations):
            out[i] = generation
    return out if world == 1 else shared_generations(out, max_new_tokens)


def shared_generations(mine: list, max_new_tokens: int) -> list[Generation]:
    """Every row's generation in every process, from the process that generated it (the others hold None): one
    table summed across processes, a row's length, log-probability, stop and tokens."""
    table = torch.zeros(len(mine), max_new_tokens + 3, dtype=torch.float64, device=device())
    for row, generation in enumerate(mine):
        if generation is not None:
            n = len(generation.tokens)
            table[row, :3] = torch.tensor([n, generation.logprob, generation.stopped])
            table[row, 3 : 3 + n] = torch.tensor(generation.tokens, dtype=torch.float64)
    dist.all_reduce(table)
    return [
        Generation([int(t) for t in row[3 : 3 + int(row[0])]], float(row[1]), bool(row[2]))
        for row in table.cpu()
    ]


def _generate_batch(
    model, rows, pad_id, stop_ids, max_new_tokens, min_new_tokens, in_step: bool = False
) -> list[Generation]:
    """One batch's greedy answers; `in_step`: decode while any process's batch has a row still answering."""
    dev = device()
    width = max(map(len, rows))
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, row in enumerate(rows):  # left padding: the last column is every row's last prompt token
        input_ids[r, width - len(row) :] = torch.tensor(row)
        mask[r, width - len(row) :] = 1
    input_ids, mask = input_ids.to(dev), mask.to(dev)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    stops = torch.tensor(sorted(stop_ids), dtype=torch.long, device=dev)
    # transformers 5 names the KV cache `cache` (argument and output); 4.x named it past_key_values
    signature = inspect.signature(model.forward).parameters
    cache = "cache" if "cache" in signature else "past_key_values"
    last_only = {"logits_to_keep": 1} if "logits_to_keep" in signature else {}
    result = model(
        input_ids=input_ids,
        attention_mask=mask,
        position_ids=positions,
        use_cache=True,
        **last_only,
    )
    past, logits, position = getattr(result, cache), result.logits[:, -1], positions[:, -1]
    tokens = torch.full((len(rows), max_new_tokens), pad_id, dtype=torch.long, device=dev)
    logprob = torch.zeros(len(rows), dtype=torch.float64, device=dev)
    active = torch.ones(len(rows), dtype=torch.bool, device=dev)
    stopped = torch.zeros(len(rows), dtype=torch.bool, device=dev)
    lengths = torch.zeros(len(rows), dtype=torch.long, device=dev)
    for step in range(max_new_tokens):
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        chosen = log_probs.argmax(dim=-1)
        logprob += torch.where(active, log_probs.gather(1, chosen[:, None])[:, 0], 0).double()
        ends = active & torch.isin(chosen, stops) & (step >= min_new_tokens)
        keeps = active & ~ends
        tokens[:, step] = torch.where(keeps, chosen, pad_id)
        lengths += keeps.long()
        stopped |= ends
        active = keeps
        if not any_active(active, in_step) or step == max_new_tokens - 1:
            break
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        position = position + 1
        result = model(
            input_ids=chosen[:, None],
            attention_mask=mask,
            position_ids=position[:, None],
            use_cache=True,
            **{cache: past},
        )
        past, logits = getattr(result, cache), result.logits[:, -1]
    return [
        Generation(tokens[r, : lengths[r]].tolist(), float(logprob[r]), bool(stopped[r]))
        for r in range(len(rows))
    ]


def any_active(active: torch.Tensor, in_step: bool) -> bool:
    """Whether a row of this batch (`in_step`: of any process's) is still answering."""
    count = active.sum()
    if in_step:
        dist.all_reduce(count)
    return bool(count)


@dataclass(frozen=True)
class Answer:
    text: str  # decoded, whitespace trimmed
    logprob: float
    stopped: bool


@lru_cache(maxsize=4)
def stop_token_ids(tokenizer, stop: str) -> frozenset[int]:
    """The tokens that end an answer: every token whose text starts with the stop string (with a stop of " ", any
    token that starts a new word), and the end-of-text token. Cached: decoding a large vocabulary token by token
    takes seconds, and a run generates at every evaluation."""
    ids = {i for i in range(len(tokenizer)) if tokenizer.decode([i]).startswith(stop)}
    return frozenset(
        ids | ({tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set())
    )


def generate_answers(
    lm,
    tokenizer,
    prompt_ids: list[list[int]],
    answer_format: dict,
    batch_size: int,
    autocast: str = "off",
) -> list[Answer]:
    """A causal LM's greedy answer to each prompt (w2s.data.answers), in input order, in bf16 where `autocast`
    (training.autocast) says so on this device."""
    generations = greedy_generate(
        lm,
        prompt_ids,
        tokenizer.pad_token_id,
        stop_token_ids(tokenizer, answer_format["stop"]),
        answer_format["max_new_tokens"],
        batch_size,
        min_new_tokens=1,
        bf16=bf16_enabled(autocast, device()),
    )
    return [Answer(tokenizer.decode(g.tokens).strip(), g.logprob, g.stopped) for g in generations]
