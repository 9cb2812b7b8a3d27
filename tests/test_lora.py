"""LoRA: a frozen backbone with adapters, the adapter checkpoint format, and loading it wherever a checkpoint is
loaded."""

from __future__ import annotations

import json

import polars as pl
import pytest
import torch
from snakemake_helpers import planned_jobs, snakemake, tiny_config, train_settings, write_config

from w2s.errors import W2SError
from w2s.models.build import build_model
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.lora import is_adapter_checkpoint
from w2s.models.paths import model_parameters
from w2s.models.tokens import encode
from w2s.training.loop import train
from w2s.training.losses import XentLoss
from w2s.training.predict import predict_p1
from w2s.version import BASE_FILE

HIDDEN, LAYERS, RANK = 32, 2, 4
SETTINGS = {"r": RANK, "alpha": 8, "dropout": 0.0}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = build_model(
        tmp_path_factory.mktemp("base") / "gpt2",
        "gpt2",
        hidden_size=HIDDEN,
        num_layers=LAYERS,
        num_heads=2,
        max_position=64,
        seed=0,
    )
    tokenizer = load_tokenizer(str(path))
    ids, _ = encode([f"example {i} " * (1 + i % 4) for i in range(24)], tokenizer, 48)
    targets = torch.tensor([float(i % 3 == 0) for i in range(len(ids))])
    return path, tokenizer, ids, targets


def finetuned(path, ids, targets, lora: dict | None):
    model = Classifier.load(str(path), head_init="random")
    if lora:
        model.add_lora(lora, str(path))
    settings = train_settings(
        lr=1e-2, batch_size=8, minibatch_size=4, epochs=2, seed=0, autocast="off"
    )
    train(model, ids, targets, XentLoss(), settings, pad_id=0)
    return model


def test_only_the_adapters_and_head_train(base):
    path, _, _, _ = base
    model = Classifier.load(str(path))
    total = sum(p.numel() for p in model.parameters())
    trainable = model.add_lora(SETTINGS, str(path))
    # GPT-2's default target, c_attn, maps hidden -> 3 * hidden: A is r x hidden, B is 3 * hidden x r, per layer
    assert (
        trainable
        == LAYERS * RANK * (HIDDEN + 3 * HIDDEN)
        + model.head.weight.numel()
        + model.head.bias.numel()
    )
    assert sum(p.numel() for p in model.parameters()) == total + LAYERS * RANK * 4 * HIDDEN
    assert all(
        not p.requires_grad
        for name, p in model.named_parameters()
        if "lora_" not in name and not name.startswith("head.")
    )


def test_training_moves_the_adapters_and_head_only(base):
    path, _, ids, targets = base
    before = Classifier.load(str(path)).backbone.state_dict()
    model = finetuned(path, ids, targets, SETTINGS)
    after = model.backbone.state_dict()
    frozen = [k for k in before if k in after]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert any(v.abs().sum() > 0 for k, v in after.items() if "lora_B" in k)  # B starts at zero


def test_checkpoint_holds_adapters_and_reloads_to_the_same_predictions(base, tmp_path):
    path, tokenizer, ids, targets = base
    model = finetuned(path, ids, targets, SETTINGS)
    model.save(tmp_path / "lora", tokenizer)
    full = finetuned(path, ids, targets, None)
    full.save(tmp_path / "full", tokenizer)

    assert is_adapter_checkpoint(tmp_path / "lora") and not is_adapter_checkpoint(tmp_path / "full")
    assert not (tmp_path / "lora" / "model.safetensors").exists()
    assert json.loads((tmp_path / "lora" / BASE_FILE).read_text())["source"] == str(path)
    lora_bytes = sum(f.stat().st_size for f in (tmp_path / "lora").glob("*.safetensors"))
    full_bytes = sum(f.stat().st_size for f in (tmp_path / "full").glob("*.safetensors"))
    assert lora_bytes < full_bytes / 10, (lora_bytes, full_bytes)
    # the model's size is the base's, whichever way it was finetuned (the scaling view's axis)
    assert model_parameters(tmp_path / "lora") > model_parameters(tmp_path / "full")

    reloaded = Classifier.load(str(tmp_path / "lora"))
    p_trained = predict_p1(model, ids, tokenizer.pad_token_id, 8, "off")
    assert (predict_p1(reloaded, ids, tokenizer.pad_token_id, 8, "off") == p_trained).all()
    # a LoRA run is not a full finetune
    assert not (predict_p1(full, ids, tokenizer.pad_token_id, 8, "off") == p_trained).all()
    # and the checkpoint loads with peft's own loader onto the base model
    from peft import PeftModel
    from transformers import AutoModel

    adapted = PeftModel.from_pretrained(
        AutoModel.from_pretrained(str(path)), str(tmp_path / "lora")
    )
    assert torch.equal(
        adapted.base_model.model.h[0].attn.c_attn.lora_B.default.weight,
        reloaded.backbone.h[0].attn.c_attn.lora_B.default.weight,
    )


def test_a_changed_base_model_is_refused(base, tmp_path):
    path, tokenizer, _, _ = base
    copy = build_model(
        tmp_path / "base",
        "gpt2",
        hidden_size=HIDDEN,
        num_layers=LAYERS,
        num_heads=2,
        max_position=64,
        seed=0,
    )
    model = Classifier.load(str(copy))
    model.add_lora(SETTINGS, str(copy))
    model.save(tmp_path / "lora", tokenizer)
    Classifier.load(str(tmp_path / "lora"))  # unchanged: loads
    build_model(
        copy, "gpt2", hidden_size=HIDDEN, num_layers=LAYERS, num_heads=2, max_position=64, seed=1
    )
    with pytest.raises(W2SError, match=r"adapters were trained on base model .* now give"):
        Classifier.load(str(tmp_path / "lora"))


def test_unknown_target_modules_are_a_clear_error(base):
    path, _, _, _ = base
    with pytest.raises(W2SError, match="lora.target_modules"):
        Classifier.load(str(path)).add_lora(
            {**SETTINGS, "target_modules": ["no_such_layer"]}, str(path)
        )


@pytest.mark.workflow
def test_a_grid_with_lora_models_runs_end_to_end(tmp_path):
    """A LoRA weak model labels (in shards) and is scored in test shards from its adapter checkpoint; a LoRA student
    and ceiling train beside full ones on the same base model."""
    config = tiny_config(
        losses={"xent": {"type": "xent"}}, labelling={"shards": 2, "test_shards": 2}
    )
    models = config["models"]
    models["weakling"]["lora"] = {"r": 2}
    models["strongling_lora"] = {
        "backbone": "strongling",
        "lora": {"r": 4, "alpha": 8},
        "lr": 1e-2,
        "batch_size": 16,
        "minibatch_size": 16,
        "max_length": 48,
    }
    config["pairs"] = [
        {"weak": "weakling", "strong": "strongling"},
        {"weak": "weakling", "strong": "strongling_lora"},
    ]
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    results = tmp_path / "results"

    for run in (
        "weak/toy/seed0/weakling",
        "ceiling/toy/seed0/strongling_lora",
        "student/toy/seed0/weakling/strongling_lora/xent",
    ):
        assert is_adapter_checkpoint(results / run / "checkpoint"), run
        assert json.loads((results / run / "metrics.json").read_text())["n"] == 32
    assert not is_adapter_checkpoint(
        results / "student/toy/seed0/weakling/strongling/xent/checkpoint"
    )
    shard_logs = sorted((tmp_path / "logs").rglob("weakling/test_predictions.shards/*.log"))
    assert [log.name for log in shard_logs] == ["0-of-2.log", "1-of-2.log"]
    labels = pl.read_parquet(results / "labels/toy/seed0/weakling.parquet")
    assert len(labels) == 48 and labels["soft_label"].is_between(0, 1).all()

    full, adapted = (
        pl.read_parquet(
            results / f"student/toy/seed0/weakling/{strong}/xent/test_predictions.parquet"
        )
        for strong in ("strongling", "strongling_lora")
    )
    assert full["id"].equals(adapted["id"]) and not full["soft_label"].equals(adapted["soft_label"])
    size = {
        strong: json.loads((results / f"ceiling/toy/seed0/{strong}/training.json").read_text())[
            "n_params"
        ]
        for strong in ("strongling", "strongling_lora")
    }
    assert size["strongling"] < size["strongling_lora"] < 1.2 * size["strongling"], size
    assert planned_jobs(tmp_path) == {}
