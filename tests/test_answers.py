"""Generative tasks (w2s.data.answers): a world's facts as questions, their splits, the answer model's loss over
the answer tokens, greedy answers, the answer predictions file and its metrics, and what the config refuses."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest
import torch
import torch.nn.functional as F
from snakemake_helpers import tiny_config

from w2s.data.answers import AnswerFormat, answer_format
from w2s.data.folk_facts import FolkFacts
from w2s.data.splits import sample_splits, validation_split
from w2s.data.world import KnowledgeBase, generate_world
from w2s.data.world_sources import WorldQuestionSource
from w2s.errors import W2SError
from w2s.io import write_parquet
from w2s.models.answerer import Answerer
from w2s.models.build import random_model
from w2s.models.classifier import load_tokenizer
from w2s.models.tokens import encode_answers, encode_prompts, pad_batch
from w2s.pipeline.config import validate_config
from w2s.records.metrics import auroc
from w2s.records.predictions import ANSWER_COLUMNS, answer_table, read_split, scores
from w2s.training.generate import Answer, generate_answers, stop_token_ids
from w2s.training.losses import make_loss

WORLD = {"type": "knowledge_base", "n_entities": 50, "digits": 2, "seed": 5, "corpus_lines": 200}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("world") / "kb"
    generate_world(WORLD, path)
    return path


@pytest.fixture(scope="module")
def answerer(world_dir):
    tokenizer = load_tokenizer(str(world_dir / "tokenizer"))
    lm = random_model("gpt2", 16, 1, 2, 32, tokenizer, seed=1)
    return Answerer(lm).eval(), tokenizer


def test_questions_ask_each_entity_its_value(world_dir):
    source, world = WorldQuestionSource(world_dir), KnowledgeBase(50, 2, 5)
    assert source.answers and len(source) == 50
    for i in (0, 17, 49):
        assert source.example(i, random.Random(0)) == (f"e{i:04d}=", world.answer(i))


def test_a_folk_worlds_questions_are_grouped_by_the_entitys_kind(tmp_path):
    """The groups analysis of a folk world's questions compares regular entities, exceptions and ruleless ones."""
    entry = {"n_entities": 200, "families": 8, "ruleless_families": 0.25}
    generate_world(
        {**entry, "type": "folk_facts", "seed": 1, "corpus_lines": 100}, tmp_path / "folk"
    )
    source, world = WorldQuestionSource(tmp_path / "folk"), FolkFacts(**entry, seed=1)
    assert [source.group(i) for i in range(200)] == [world.kind(i) for i in range(200)]
    assert set(source.groups) == {"regular", "exception", "ruleless"}
    assert source.example(7, random.Random(0)) == (world.prompt(7), world.answer(7))


def test_question_splits_are_disjoint_sized_and_follow_the_seed(world_dir, tmp_path):
    source = WorldQuestionSource(world_dir)
    sizes = {"weak_train": 10, "strong_train": 12, "test": 8}
    splits, duplicates = sample_splits(source, "q", sizes, seed=2)
    assert duplicates == 0 and {s: f.height for s, f in splits.items()} == sizes
    ids = [set(frame["id"]) for frame in splits.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    for frame in splits.values():
        assert frame.columns == ["id", "text", "answer", "label", "group"]
        assert (frame["label"] == 1).all()
        for row in frame.iter_rows(named=True):
            i = int(row["id"].split(":")[1])
            assert row["text"] == f"e{i:04d}=" and row["answer"] == KnowledgeBase(50, 2, 5).answer(
                i
            )
    again, _ = sample_splits(source, "q", sizes, seed=2)
    other, _ = sample_splits(source, "q", sizes, seed=3)
    assert again["test"].equals(splits["test"]) and not other["test"].equals(splits["test"])
    paths = []
    for split in ("weak_train", "strong_train", "test"):
        paths.append(tmp_path / f"{split}.parquet")
        write_parquet(splits[split], paths[-1])
    entry = {f"n_{s}": n for s, n in sizes.items()} | {"n_validation": 6}
    validation = validation_split(source, "q", entry, 2, paths)
    assert validation.height == 6 and not set(validation["id"]) & set().union(*ids)
    with pytest.raises(W2SError, match="too few rows: .* need 51 distinct prompts, but the 50"):
        sample_splits(source, "q", {"weak_train": 51}, seed=2)


def test_answer_rows_hold_the_prompt_then_the_answer_and_its_stop(answerer):
    _, tokenizer = answerer
    rows, lengths, truncated = encode_answers(
        ["e0001=", "e0002="], ["17", "4"], tokenizer, 16, "", "."
    )
    assert [tokenizer.decode(r) for r in rows] == ["e0001=17.", "e0002=4."]
    assert lengths == [3, 2] and truncated == 0
    rows, lengths, truncated = encode_answers(["e0001=e0002="], ["17"], tokenizer, 4, "", ".")
    assert tokenizer.decode(rows[0]) == "=17." and truncated == 1  # the prompt loses its start
    prompts, cut = encode_prompts(["e0001=e0002="], tokenizer, 4, room=3)
    assert tokenizer.decode(prompts[0]) == "=" and cut == 1


def test_cross_entropy_to_the_answer_is_the_mean_next_token_loss_over_its_tokens(answerer):
    model, tokenizer = answerer
    rows, lengths, _ = encode_answers(
        ["e0001=", "e0003=e0002="], ["17", "4"], tokenizer, 16, "", "."
    )
    ids, mask = pad_batch(rows, tokenizer.pad_token_id)
    with torch.no_grad():
        logits = model(ids, mask, torch.tensor(lengths))
        loss = make_loss("xent", {"type": "xent"})(logits, torch.ones(2), None)
        full = model.backbone(input_ids=ids, attention_mask=mask).logits.log_softmax(-1)
    by_hand = []
    for r, (row, n) in enumerate(zip(rows, lengths)):
        positions = range(
            len(row) - n, len(row)
        )  # the answer's tokens, predicted from the one before
        by_hand.append(-np.mean([full[r, p - 1, row[p]].item() for p in positions]))
    assert torch.allclose(logits.softmax(-1).sum(-1), torch.ones(2))
    assert loss.item() == pytest.approx(np.mean(by_hand), rel=1e-5)
    own = full.argmax(-1)
    expected = [
        all(own[r, p - 1].item() == row[p] for p in range(len(row) - n, len(row)))
        for r, (row, n) in enumerate(zip(rows, lengths))
    ]
    assert model.last_matches.tolist() == expected
    # the confidence loss's own term: the mean log-probability of the argmax token at each answer position
    own_by_hand = [
        np.mean([full[r, p - 1].max().item() for p in range(len(row) - n, len(row))])
        for r, (row, n) in enumerate(zip(rows, lengths))
    ]
    assert model.last_own_logprobs.tolist() == pytest.approx(own_by_hand, rel=1e-5)


def test_training_on_answers_teaches_them(answerer, world_dir):
    """A few steps of xent on the answer rows raise the answers' probability, and the model then writes them."""
    _, tokenizer = answerer
    model = Answerer(random_model("gpt2", 16, 1, 2, 32, tokenizer, seed=2))
    rows, lengths, _ = encode_answers(["e0001=", "e0002="], ["17", "40"], tokenizer, 16, "", ".")
    ids, mask = pad_batch(rows, tokenizer.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-2)
    for _ in range(60):
        logits = model(ids, mask, torch.tensor(lengths))
        loss = F.cross_entropy(logits, torch.ones(2, dtype=torch.long))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    prompts, _ = encode_prompts(["e0001=", "e0002="], tokenizer, 16, 3)
    fmt = AnswerFormat(".", 3).params()
    answers = generate_answers(model.backbone, tokenizer, prompts, fmt, batch_size=2)
    assert [a.text for a in answers] == ["17", "40"] and all(a.stopped for a in answers)
    assert all(a.logprob > np.log(0.5) for a in answers)


def test_the_stop_tokens_are_the_stop_string_and_end_of_text(answerer):
    _, tokenizer = answerer
    assert stop_token_ids(tokenizer, ".") == {
        tokenizer.convert_tokens_to_ids("."),
        tokenizer.eos_token_id,
    }


def test_answer_table_scores_exact_matches():
    frame = pl.DataFrame(
        {"id": ["a", "b", "c"], "text": ["x=", "y=", "z="], "answer": ["1", "2", "3"]}
    )
    answers = [Answer("1", -0.1, True), Answer("7", -2.0, True), Answer("3", -0.5, False)]
    table = answer_table(frame, answers)
    assert table.columns == list(ANSWER_COLUMNS)
    assert table["correct"].to_list() == [True, False, True] and table["group"][0] == "all"
    metrics = scores(table)
    assert metrics["accuracy"] == pytest.approx(2 / 3) and metrics["n"] == 3
    assert metrics["auroc"] == auroc(np.exp([-0.1, -2.0, -0.5]), np.array([1, 0, 1])) == 1.0


def test_an_answers_file_without_an_answer_is_refused(tmp_path):
    path = tmp_path / "labels.parquet"
    write_parquet(
        pl.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "generated": ["1", None]}), path
    )
    with pytest.raises(W2SError, match="1 rows have no 'generated' answer \\(row 1\\)"):
        read_split(path, "generated")


def question_config(**overrides) -> dict:
    config = tiny_config(
        worlds={"kb": {"digits": 2, "n_entities": 100}},
        datasets={"kbq": {"kind": "world", "options": {"world": "kb", "format": "question"}}},
        losses={"xent": {"type": "xent"}},
    )
    config.update(overrides)
    return validate_config(config)


def test_a_world_question_answers_in_its_digits_then_a_full_stop():
    assert answer_format(question_config(), "kbq") == AnswerFormat(".", 3)
    config = question_config()
    config["datasets"]["kbq"]["max_new_tokens"] = 5
    assert answer_format(config, "kbq").max_new_tokens == 5


def test_generated_answers_train_with_the_losses_defined_on_them_in_a_config_of_any_mix():
    from w2s.pipeline.grid import runs

    question_config(losses={"logconf": {"type": "logconf"}})  # the confidence loss on answers
    with pytest.raises(
        W2SError,
        match=r"losses.prod: loss type 'product' is defined for two classes, and every dataset of this config asks "
        r"for generated answers \(whose students train with \['logconf', 'xent'\]\)",
    ):
        question_config(losses={"xent": {"type": "xent"}, "prod": {"type": "product"}})
    mixed = question_config(
        datasets={
            "kbq": {"kind": "world", "options": {"world": "kb", "format": "question"}},
            "toy": tiny_config()["datasets"]["toy"],
        },
        losses={
            "xent": {"type": "xent"},
            "logconf": {"type": "logconf"},
            "prod": {"type": "product"},
        },
    )
    trained = {(run.dataset, run.loss) for run in runs(mixed, ("student",))}
    assert trained == {
        ("kbq", "xent"),
        ("kbq", "logconf"),
        ("toy", "xent"),
        ("toy", "logconf"),
        ("toy", "prod"),
    }


def test_the_config_refuses_what_a_generative_task_cannot_do():
    models = tiny_config()["models"]
    models["weakling"]["mode"] = "probe"
    with pytest.raises(W2SError, match="models.weakling.mode: dataset kbq is a generative task"):
        question_config(models=models)
    with pytest.raises(W2SError, match="options.format: 'questions' is not one of"):
        question_config(
            datasets={"kbq": {"kind": "world", "options": {"world": "kb", "format": "questions"}}}
        )
    with pytest.raises(W2SError, match="datasets.toy.max_new_tokens: only a generative task"):
        validate_config(
            tiny_config(datasets={"toy": {**tiny_config()["datasets"]["toy"], "max_new_tokens": 3}})
        )


def test_an_answerer_with_lora_saves_adapters_and_reloads_to_the_same_answers(answerer, tmp_path):
    lm, tokenizer = answerer
    base = tmp_path / "base"
    lm.backbone.save_pretrained(base)
    tokenizer.save_pretrained(base)
    model = Answerer.load(str(base))
    trainable = model.add_lora({"r": 2, "alpha": 4, "dropout": 0.0}, str(base))
    assert 0 < trainable < sum(p.numel() for p in model.parameters()) // 2
    with torch.no_grad():  # move the adapters off their zero start, so that reloading them matters
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    rows, lengths, _ = encode_answers(["e0001=", "e0002="], ["17", "4"], tokenizer, 16, "", ".")
    ids, mask = pad_batch(rows, tokenizer.pad_token_id)
    model.save(tmp_path / "checkpoint", tokenizer)
    assert not (tmp_path / "checkpoint/model.safetensors").exists()
    again = Answerer.load(str(tmp_path / "checkpoint")).eval()
    with torch.no_grad():
        expected = model.eval()(ids, mask, torch.tensor(lengths))
        assert not torch.allclose(
            expected, Answerer.load(str(base))(ids, mask, torch.tensor(lengths))
        )
        assert torch.allclose(again(ids, mask, torch.tensor(lengths)), expected, atol=1e-6)
