"""The GPU memory estimate of `w2s plan` (w2s.pipeline.memory): its activation constants against what autograd
really keeps on this CPU, its arithmetic, and the change it proposes for a job that does not fit."""

from __future__ import annotations

import pytest
import torch
from snakemake_helpers import tiny_config
from transformers import AutoConfig, AutoModel

from w2s.models.recompute import recompute_layers
from w2s.pipeline.config import validate_config
from w2s.pipeline.memory import (
    GiB,
    Layout,
    Shape,
    activation_bytes,
    fix,
    job_memory,
    training_memory,
)

SHAPES = {
    "qwen2": dict(
        hidden_size=128,
        intermediate_size=352,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=1000,
    ),
    "gpt2": dict(n_embd=128, n_layer=2, n_head=4, vocab_size=1000, bos_token_id=0, eos_token_id=0),
}


def backbone(arch: str):
    config = AutoConfig.for_model(arch, **SHAPES[arch])
    torch.manual_seed(0)
    return AutoModel.from_config(config, attn_implementation="sdpa").eval(), config


def kept_bytes(model, tokens: int, rows: int = 4) -> int:
    """The bytes of the distinct tensors autograd keeps for the backward pass of a forward pass in bf16 autocast."""
    kept = {}

    def pack(tensor):
        kept[tensor.data_ptr(), tensor.dtype, tuple(tensor.shape)] = tensor.nbytes
        return tensor

    ids = torch.randint(0, 100, (rows, tokens), generator=torch.Generator().manual_seed(0))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(input_ids=ids, attention_mask=torch.ones_like(ids))
    return sum(kept.values())


def per_token_per_layer(model, config) -> float:
    """What each more token costs in each layer: the difference between two lengths, so that what does not grow with
    the length (autocast's weight copies) drops out."""
    return (kept_bytes(model, 128) - kept_bytes(model, 64)) / (4 * 64) / config.num_hidden_layers


@pytest.mark.parametrize("arch", ["qwen2", "gpt2"])
def test_the_activation_constant_covers_what_autograd_keeps(arch):
    model, config = backbone(arch)
    hidden = config.hidden_size
    intermediate = getattr(config, "intermediate_size", None) or 4 * hidden
    measured = per_token_per_layer(model, config)
    assert measured <= activation_bytes(hidden, intermediate) <= 1.25 * measured


def test_gradient_checkpointing_keeps_each_layers_input_only():
    model, config = backbone("qwen2")
    full = per_token_per_layer(model, config)
    recompute_layers(model)
    layers, hidden = config.num_hidden_layers, config.hidden_size
    measured = per_token_per_layer(model, config) * layers
    # each layer's fp32 input (4 x hidden bytes a token), and the final norm's input and output outside the layers
    assert measured <= 4 * hidden * (layers + 2) * 1.05 and measured < full * layers / 5
    # the estimate: the layers' inputs, and one layer's activations while it is recomputed
    shape = Shape(0, 0, hidden, config.intermediate_size, layers, config.vocab_size, 64, 128, 0)
    estimate = training_memory(shape, 1, 1, Layout(), True, 0, {}).phases["pass"]["activations"]
    assert estimate >= measured


def qwen_3b(trained: int | None = None) -> Shape:
    params = 3_085_938_688
    return Shape(params, trained or params, 2048, 11008, 36, 151936, 256, 1024, 0)


def test_training_memory_holds_16_bytes_a_parameter_and_zero_shares_them():
    shape = qwen_3b()
    plain = training_memory(shape, 4, 1024, Layout(), False, 0, {})
    assert sum(plain.held.values()) == 16 * shape.params
    zero3 = training_memory(shape, 4, 1024, Layout(3, 4), False, 0, {})
    assert (
        sum(zero3.held.values()) == 4 * shape.params
    )  # weights, gradients and Adam over 4 processes
    zero2 = training_memory(shape, 4, 1024, Layout(2, 4), False, 0, {})
    assert zero2.held["weights"] == 4 * shape.params and zero2.held["gradients"] == shape.params
    lora = training_memory(qwen_3b(trained=10**6), 4, 1024, Layout(), False, 0, {})
    assert lora.held["optimizer"] == 8 * 10**6
    checkpointed = training_memory(shape, 4, 1024, Layout(), True, 0, {})
    assert checkpointed.phases["pass"]["activations"] < plain.phases["pass"]["activations"] / 10
    # the peak holds the largest phase only: passes and optimizer steps take turns
    assert plain.peak == pytest.approx(
        16 * shape.params + sum(plain.phases["pass"].values()) + 1 * GiB
    )


def a_gpu_grid(**strongling) -> dict:
    config = tiny_config()
    config["models"]["strongling"].update(gpus=1, **strongling)
    return validate_config(config)


def test_a_job_that_does_not_fit_is_told_the_first_change_that_fits():
    config = a_gpu_grid(minibatch_size=8, max_length=1024)
    shape = qwen_3b()
    estimate = job_memory(config, "strongling", "training", "toy", shape)
    assert estimate.peak > 79 * GiB
    advice = fix(config, "strongling", "training", "toy", shape, 0.9 * 79 * GiB)
    assert advice.startswith("fits with models.strongling.gradient_checkpointing: True")
    config["models"]["strongling"]["gradient_checkpointing"] = True
    assert job_memory(config, "strongling", "training", "toy", shape).peak <= 0.9 * 79 * GiB
    hopeless = fix(config, "strongling", "training", "toy", shape, 1 * GiB)
    assert hopeless.startswith("none of")
