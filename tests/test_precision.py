"""Precision: autocast auto is bf16 exactly where the device computes it natively (fp32 elsewhere); training holds
fp32 master weights whatever dtype a checkpoint carries; float16 is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from snakemake_helpers import finetune_directly, tiny_config
from transformers import AutoModelForCausalLM

from w2s.data.sources import SyntheticSentimentSource
from w2s.data.splits import sample_splits
from w2s.errors import W2SError
from w2s.kinds import of_params
from w2s.kinds.answers import AnswerRun
from w2s.kinds.classification import FinetuneRun
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.pipeline.config import validate_config
from w2s.records.params import TrainingParams
from w2s.training.generative import generative_finetune
from w2s.training.runtime import NATIVE_BF16_FLAGS, bf16_enabled

CPU = torch.device("cpu")


def test_explicit_settings_are_obeyed():
    assert bf16_enabled("bf16", CPU) and not bf16_enabled("off", CPU)


def test_auto_uses_bf16_on_a_cpu_with_bf16_instructions_only():
    flags = set(Path("/proc/cpuinfo").read_text().split())
    assert bf16_enabled("auto", CPU) == bool(flags & set(NATIVE_BF16_FLAGS))


def test_auto_stays_fp32_on_the_portable_kernels():
    """ATEN_CPU_CAPABILITY=default selects kernels without bf16 arithmetic, where bf16 is emulated and slow."""
    probe = (
        "import torch; from w2s.training.runtime import bf16_enabled; "
        "print(bf16_enabled('auto', torch.device('cpu')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ATEN_CPU_CAPABILITY": "default"},
    )
    assert result.stdout.strip() == "False"


# Training holds fp32 master weights whatever dtype a checkpoint was saved in (Qwen2.5's: bf16): a bf16 master
# leaves most weights unchanged at the paper's learning rates (each Adam update, ~lr, is below half a bf16 step
# for weights of ordinary size), so a model that looks trained would still be its base.


@pytest.fixture(scope="module")
def bf16_gpt2(tiny_gpt2, tmp_path_factory):
    """The tiny GPT-2 saved in bf16, as transformers then loads it by default."""
    out = tmp_path_factory.mktemp("bf16") / "tiny_gpt2_bf16"
    lm = AutoModelForCausalLM.from_pretrained(tiny_gpt2, dtype=torch.float32)
    lm.to(torch.bfloat16).save_pretrained(out)
    load_tokenizer(str(tiny_gpt2)).save_pretrained(out)
    assert AutoModelForCausalLM.from_pretrained(out).dtype == torch.bfloat16
    return out


def share_moved(before: dict, after: dict) -> float:
    """The share of the transformer block's weights (every one of which gets a gradient) that training moved; the
    LM's names start with "transformer.", the classifier's backbone's do not."""
    before = {k.removeprefix("transformer."): v for k, v in before.items()}
    after = {k.removeprefix("transformer."): v for k, v in after.items()}
    names = [name for name in before if name.startswith("h.0.")]
    assert names
    moved = sum(int((after[n].float() != before[n].float()).sum()) for n in names)
    return moved / sum(before[n].numel() for n in names)


@pytest.fixture(scope="module")
def sentiment_splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("sentiment")
    splits, _ = sample_splits(
        SyntheticSentimentSource(n_rows=500, length=6), "toy", {"train": 44, "test": 24}, 0
    )
    for name, frame in splits.items():
        frame.write_parquet(root / f"{name}.parquet")
    return root


def test_generative_finetuning_of_a_bf16_checkpoint_moves_its_weights(
    bf16_gpt2, sentiment_splits, tmp_path
):
    generative_finetune(
        tmp_path / "lm",
        str(bf16_gpt2),
        [sentiment_splits / "train.parquet"],
        steps=10,
        lr=1e-5,
        batch_size=8,
        max_length=32,
        seed=0,
    )
    before, after = (load_file(p / "model.safetensors") for p in (bf16_gpt2, tmp_path / "lm"))
    assert (
        after["transformer.h.0.mlp.c_fc.weight"].dtype == torch.float32
    )  # saved from the fp32 masters
    assert share_moved(before, after) > 0.99


def test_training_from_a_bf16_checkpoint_with_dtype_bfloat16_keeps_fp32_masters(
    bf16_gpt2, sentiment_splits, tmp_path
):
    """`dtype: bfloat16` is the dtype of the jobs that only predict; training moves every weight as in fp32."""
    out = finetune_directly(
        sentiment_splits,
        tmp_path,
        bf16_gpt2,
        lr=1e-5,
        max_length=32,
        loss={"type": "xent"},
        dtype="bfloat16",
    )
    before = load_file(bf16_gpt2 / "model.safetensors")
    after = load_file(Path(out["checkpoint"]) / "model.safetensors")
    assert share_moved(before, after) > 0.99


@pytest.mark.workflow
def test_a_bf16_checkpoint_trains_under_zero3_and_its_lora_adapters_train_in_fp32(
    bf16_gpt2, sentiment_splits, tmp_path
):
    """The DeepSpeed path (ZeRO-3, two processes) moves every block weight of a checkpoint saved in bf16, as the
    plain path does; LoRA's adapters on that checkpoint are fp32 and move too (the frozen base stays as loaded)."""
    zero3 = {"stage": 3, "offload": False, "processes_per_node": 2, "nodes": 1}
    common = {"lr": 1e-5, "max_length": 32, "loss": {"type": "xent"}}
    out = finetune_directly(
        sentiment_splits, tmp_path / "zero3", bf16_gpt2, deepspeed=zero3, **common
    )
    before = load_file(bf16_gpt2 / "model.safetensors")
    after = load_file(Path(out["checkpoint"]) / "model.safetensors")
    assert share_moved(before, after) > 0.99
    lora = {"r": 4, "alpha": 8, "dropout": 0.0}
    out = finetune_directly(sentiment_splits, tmp_path / "lora", bf16_gpt2, lora=lora, **common)
    adapters = load_file(Path(out["checkpoint"]) / "adapter_model.safetensors")
    lora_b = [
        v for k, v in adapters.items() if "lora_B" in k
    ]  # zero at the start: any change is training's
    assert lora_b and all(v.dtype == torch.float32 for v in adapters.values())
    assert all((v != 0).float().mean() > 0.99 for v in lora_b)


@pytest.mark.parametrize("kind", ["classifier", "reward", "answers"])
def test_every_trained_model_loads_fp32_masters_from_a_bf16_checkpoint(bf16_gpt2, kind):
    params = TrainingParams(
        source=str(bf16_gpt2),
        dtype="bfloat16",
        head_init="zero",
        label_tokens=None,
        trust_remote_code=False,
        max_length=32,
        pairs=True if kind == "reward" else None,
        settings={},
        predict_batch_size=8,
        deepspeed=None,
    )
    module = (AnswerRun if kind == "answers" else FinetuneRun).load(of_params(params), params)
    assert {p.dtype for p in module.parameters()} == {torch.float32}


def test_prediction_jobs_take_the_entry_dtype(bf16_gpt2):
    assert {p.dtype for p in Classifier.load(str(bf16_gpt2), "bfloat16").backbone.parameters()} == {
        torch.bfloat16
    }


def test_float16_is_refused():
    """float16 would need loss scaling (an Adam step in it gives NaN); the schema's description says so."""
    config = tiny_config()
    config["models"]["weakling"]["dtype"] = "float16"
    with pytest.raises(W2SError, match=r"models\.weakling\.dtype: 'float16' is not one of"):
        validate_config(config)
