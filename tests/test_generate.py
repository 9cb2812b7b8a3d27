"""Batched greedy generation with the KV cache (w2s.training.generate): the same answers as feeding each prompt
whole through the model one token at a time, stop tokens and the length cap."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from w2s.training.generate import greedy_generate


@pytest.fixture(scope="module")
def lm(tiny_gpt2):
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(tiny_gpt2).eval()


@torch.no_grad()
def uncached_greedy(model, prompt: list[int], steps: int) -> tuple[list[int], float]:
    """The reference: the whole sequence through the model at every step, no cache, no padding."""
    ids, logprob = list(prompt), 0.0
    for _ in range(steps):
        logits = model(input_ids=torch.tensor([ids])).logits[0, -1]
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        token = int(log_probs.argmax())
        ids.append(token)
        logprob += log_probs[token].item()
    return ids[len(prompt) :], logprob


@pytest.mark.kernel_sensitive
def test_batched_cached_answers_equal_uncached_ones(lm):
    """Prompts of different lengths left-padded into one batch, generated through the cache: each row's tokens and
    log-probability are those of the prompt alone, recomputed whole at every step."""
    prompts = [
        [5 + (i * 7 + j) % 200 for j in range(length)] for i, length in enumerate([3, 11, 7, 20, 1])
    ]
    generations = greedy_generate(
        lm, prompts, pad_id=0, stop_ids=[], max_new_tokens=6, batch_size=4
    )
    for prompt, generation in zip(prompts, generations):
        tokens, logprob = uncached_greedy(lm, prompt, 6)
        assert generation.tokens == tokens and not generation.stopped
        assert generation.logprob == pytest.approx(logprob, abs=1e-4)


def test_a_stop_token_ends_the_answer_and_the_cap_cuts_it(lm):
    prompt = [10, 20, 30, 40]
    free, _ = uncached_greedy(lm, prompt, 5)
    stop = free[2]  # the third token the model would say
    first = free.index(stop)  # where it first says it
    [generation] = greedy_generate(lm, [prompt], 0, stop_ids={stop}, max_new_tokens=5)
    assert generation.tokens == free[:first] and generation.stopped
    _, logprob = uncached_greedy(lm, prompt, first + 1)  # the stop token's probability is counted
    assert generation.logprob == pytest.approx(logprob, abs=1e-4)
    [capped] = greedy_generate(lm, [prompt], 0, stop_ids=[], max_new_tokens=2)
    assert capped.tokens == free[:2] and not capped.stopped


def test_answers_come_back_in_input_order(lm):
    prompts = [[1] * 9, [2, 3], [4] * 5]
    batched = greedy_generate(lm, prompts, 0, [], 3, batch_size=2)
    alone = [greedy_generate(lm, [p], 0, [], 3)[0] for p in prompts]
    assert [g.tokens for g in batched] == [g.tokens for g in alone]


def generate_in_process(
    rank: int, world: int, store: str, model_dir: str, prompts, results
) -> None:
    """One of `world` processes of a launched job: generate with the others, noting the prompt rows it ran."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    prompted = []
    forward = model.forward

    def counting(*args, **kwargs):
        if (
            "cache" not in kwargs and "past_key_values" not in kwargs
        ):  # a prompt pass, not a decoding step
            prompted.append(kwargs["input_ids"].shape[0])
        return forward(*args, **kwargs)

    model.forward = counting
    generations = greedy_generate(
        model, prompts, pad_id=0, stop_ids=[7], max_new_tokens=5, batch_size=2
    )
    results[rank] = ([(g.tokens, g.logprob, g.stopped) for g in generations], sum(prompted))
    dist.destroy_process_group()


def test_the_processes_of_a_launched_job_share_the_rows_and_all_get_every_answer(
    lm, tiny_gpt2, tmp_path
):
    """Two processes generate 9 prompts: each runs its share (5 and 4 rows, a stand-in row in the second's last
    batch) in step with the other, and both return every answer as one process alone would give it."""
    import torch.multiprocessing as mp

    prompts = [[5 + (i * 13 + j) % 200 for j in range(3 + i % 4)] for i in range(9)]
    alone = greedy_generate(lm, prompts, pad_id=0, stop_ids=[7], max_new_tokens=5, batch_size=2)
    results = mp.Manager().dict()
    mp.spawn(
        generate_in_process,
        args=(2, str(tmp_path / "store"), str(tiny_gpt2), prompts, results),
        nprocs=2,
    )
    expected = [(g.tokens, g.logprob, g.stopped) for g in alone]
    for rank in (0, 1):
        answers, prompted = results[rank]
        assert [(t, s) for t, _, s in answers] == [(t, s) for t, _, s in expected]
        assert [lp for _, lp, _ in answers] == pytest.approx(
            [lp for _, lp, _ in expected], abs=1e-5
        )
    assert (results[0][1], results[1][1]) == (5, 5)  # 5 and 4 rows, and one stand-in row
