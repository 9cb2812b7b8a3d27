"""The reward model (w2s.models.reward): a scalar head that scores each transcript of a comparison on its own, so
swapping the completions flips the pair's prediction exactly; its checkpoint, its zero-shot readout, and the
comparison encoding the training loop and the prediction jobs share."""

from __future__ import annotations

import math

import polars as pl
import pytest
import torch

from w2s.errors import W2SError
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.reward import RewardModel
from w2s.models.tokens import Pair, batch_rows, encode_split, pad_batch
from w2s.training.generative import task_texts
from w2s.training.predict import predict_p1

PAIRS = pl.DataFrame(
    {
        "id": ["t:0", "t:1", "t:2"],
        "text": ["Q: 2+2=", "Q: capital of France?", "Q: "],
        "completion_a": [" 4", " Paris, of course", " a much longer completion than the other one"],
        "completion_b": [" 5", " Lyon", " short"],
        "label": [1, 1, 0],
        "group": ["all"] * 3,
    }
)


@pytest.fixture(scope="module")
def reward_model(tiny_gpt2):
    torch.manual_seed(0)
    model = RewardModel.load(str(tiny_gpt2), head_init="random").eval()
    return model, load_tokenizer(str(tiny_gpt2))


def swapped(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.rename({"completion_a": "completion_b", "completion_b": "completion_a"})


def test_swapping_the_completions_flips_the_pair_prediction_exactly(reward_model):
    model, tokenizer = reward_model
    ids, _ = encode_split(PAIRS, tokenizer, 64)
    flipped, _ = encode_split(swapped(PAIRS), tokenizer, 64)
    with torch.no_grad():
        margin = model(*pad_batch(batch_rows(ids), tokenizer.pad_token_id))[:, 1]
        reverse = model(*pad_batch(batch_rows(flipped), tokenizer.pad_token_id))[:, 1]
    assert (margin.abs() > 1e-4).all()  # a random head has preferences
    # the same two rewards, subtracted the other way: exact but for the last bit a row's place in the batch moves
    # (the kernels block a batch by position)
    assert (reverse + margin).abs().max() <= 1e-7
    p1 = predict_p1(model, ids, tokenizer.pad_token_id, batch_size=8, autocast="off")
    q1 = predict_p1(model, flipped, tokenizer.pad_token_id, batch_size=8, autocast="off")
    assert p1 + q1 == pytest.approx([1.0] * 3, abs=1e-7)  # softmax's float32 rounding only


def test_each_transcript_is_scored_on_its_own(reward_model):
    """A transcript's reward is the same alone, beside its pair, or in a batch of other lengths: the head reads its
    own last real token, and padding reaches nothing."""
    model, tokenizer = reward_model
    ids, _ = encode_split(PAIRS, tokenizer, 64)
    with torch.no_grad():
        batch = model.rewards(*pad_batch(batch_rows(ids), tokenizer.pad_token_id))
        alone = [
            model.rewards(*pad_batch([row], tokenizer.pad_token_id)).item()
            for row in batch_rows(ids)
        ]
        logits = model(*pad_batch(batch_rows(ids), tokenizer.pad_token_id))
    assert batch.tolist() == pytest.approx(alone, abs=1e-5)
    assert logits[:, 0].eq(0).all()
    assert logits[:, 1].tolist() == pytest.approx((batch[:3] - batch[3:]).tolist(), abs=1e-6)


def test_a_pair_is_its_prefix_plus_each_completion(reward_model):
    _, tokenizer = reward_model
    ids, truncated = encode_split(PAIRS, tokenizer, 64)
    assert all(isinstance(pair, Pair) for pair in ids) and truncated == 0
    for pair, row in zip(ids, PAIRS.iter_rows(named=True), strict=True):
        assert tokenizer.decode(pair.a) == row["text"] + row["completion_a"]
        assert tokenizer.decode(pair.b) == row["text"] + row["completion_b"]
        assert len(pair) == 2 * max(len(pair.a), len(pair.b))  # what a padded batch of it costs
    # each transcript keeps its end when cut: one pair truncated, counted once
    short, truncated = encode_split(PAIRS, tokenizer, 12)
    assert truncated == 2 and all(max(len(p.a), len(p.b)) <= 12 for p in short)
    assert tokenizer.decode(short[2].a).endswith("other one")


def test_checkpoint_round_trip_and_a_classifier_head_is_refused(reward_model, tmp_path):
    model, tokenizer = reward_model
    model.save(tmp_path / "rm", tokenizer)
    again = RewardModel.load(str(tmp_path / "rm")).eval()
    ids, _ = encode_split(PAIRS, tokenizer, 64)
    before = predict_p1(model, ids, tokenizer.pad_token_id, autocast="off")
    assert (predict_p1(again, ids, tokenizer.pad_token_id, autocast="off") == before).all()
    with pytest.raises(W2SError, match="one reward.*two classes"):
        Classifier.load(str(tmp_path / "rm"))


def test_readout_reward_is_the_positive_minus_the_negative_token_logit(tiny_gpt2):
    from transformers import AutoModelForCausalLM

    model = RewardModel.load(str(tiny_gpt2), head_init="readout", label_tokens=["U", "R"]).eval()
    tokenizer = load_tokenizer(str(tiny_gpt2))
    lm = AutoModelForCausalLM.from_pretrained(tiny_gpt2).eval()
    (u,), (r,) = (tokenizer(t, add_special_tokens=False)["input_ids"] for t in ("U", "R"))
    ids = tokenizer(["e0001=7.", "e0002=4."], add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        rewards = model.rewards(*pad_batch(ids, tokenizer.pad_token_id))
        expected = [
            (lambda logits: (logits[r] - logits[u]).item())(lm(torch.tensor([row])).logits[0, -1])
            for row in ids
        ]
    assert rewards.tolist() == pytest.approx(expected, abs=1e-4)


def test_generative_finetuning_reads_both_transcripts_of_each_comparison(tmp_path):
    PAIRS.write_parquet(tmp_path / "pairs.parquet")
    texts = task_texts([tmp_path / "pairs.parquet"])
    expected = [
        p + c for c in ("completion_a", "completion_b") for p, c in zip(PAIRS["text"], PAIRS[c])
    ]
    assert texts == expected and "Q: 2+2= 5" in texts  # the worse completion too


def test_the_likelihood_preference_compares_each_completions_mean_log_probability(tiny_gpt2):
    """The zero-shot preference of a model without label tokens: each completion's mean log-probability after the
    prefix the two transcripts share, computed here on each transcript alone (no padding, no partner), and
    p(a) = sigmoid(score_a - score_b); swapping the completions gives 1 - p."""
    from transformers import AutoModelForCausalLM

    from w2s.models.likelihood import LikelihoodPreference

    model = LikelihoodPreference.load(str(tiny_gpt2), "float32", False).eval()
    tokenizer = load_tokenizer(str(tiny_gpt2))
    language_model = AutoModelForCausalLM.from_pretrained(str(tiny_gpt2)).eval()
    pairs, _ = encode_split(PAIRS, tokenizer, 64)

    def mean_log_probability(row: list[int], start: int) -> float:
        with torch.no_grad():
            logits = language_model(input_ids=torch.tensor([row])).logits[0]
        log_probs = torch.log_softmax(logits[:-1], -1).gather(-1, torch.tensor(row[1:])[:, None])
        return log_probs[start - 1 :].mean().item()

    expected = []
    for pair in pairs:
        start = next(i for i, (x, y) in enumerate(zip(pair.a, pair.b)) if x != y)
        margin = mean_log_probability(pair.a, start) - mean_log_probability(pair.b, start)
        expected.append(1 / (1 + math.exp(-margin)))
    p1 = predict_p1(model, pairs, tokenizer.pad_token_id, batch_size=8, autocast="off")
    assert p1 == pytest.approx(expected, abs=1e-5)
    assert len(set(p1.round(3))) == 3  # the model has preferences
    flipped, _ = encode_split(swapped(PAIRS), tokenizer, 64)
    q1 = predict_p1(model, flipped, tokenizer.pad_token_id, batch_size=8, autocast="off")
    assert p1 + q1 == pytest.approx([1.0] * 3, abs=1e-6)
