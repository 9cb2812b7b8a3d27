"""The GPU memory estimate of `w2s plan` (w2s.pipeline.memory): its activation constants against what autograd
really keeps on this CPU, its arithmetic, and the change it proposes for a job that does not fit."""

from __future__ import annotations

import re

import pytest
import torch
from snakemake_helpers import tiny_config
from transformers import AutoConfig, AutoModel

from w2s.models.activations import fuse_activations
from w2s.models.recompute import recompute_layers
from w2s.pipeline.config import validate_config
from w2s.pipeline.memory import (
    GiB,
    Layout,
    activation_bytes,
    fix,
    job_memory,
    training_memory,
)
from w2s.pipeline.model_shapes import Shape

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
    model = AutoModel.from_config(config, attn_implementation="sdpa").eval()
    fuse_activations(model)  # as w2s loads a model (w2s.models.backbone)
    return model, config


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
    assert measured <= activation_bytes(hidden, intermediate)
    if (
        arch == "qwen2"
    ):  # the large models: the estimate is tight there (GPT-2's fused GELU keeps less)
        assert activation_bytes(hidden, intermediate) <= 1.25 * measured


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
    # DeepSpeed's bf16 mode: bf16 weights (2 bytes) and fp32 masters (4) all shared under ZeRO-3, no autocast copies
    bf16 = training_memory(shape, 4, 1024, Layout(3, 4, deepspeed_bf16=True), False, 0, {})
    assert sum(bf16.held.values()) == 18 * shape.params / 4
    assert bf16.phases["pass"]["bf16 copies"] == 0
    assert zero3.phases["pass"]["bf16 copies"] == 2 * shape.params
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


def tensor_bytes(path) -> int:
    """A safetensors file's tensor bytes, without its header."""
    with open(path, "rb") as f:
        return path.stat().st_size - 8 - int.from_bytes(f.read(8), "little")


@pytest.mark.usefixtures("empty_hub_cache")
def test_the_plans_disk_counts_early_stops_language_models_resume_states_and_the_hub_cache(
    hub_models, tmp_path
):
    """What stays and what lives while runs train, each estimate against the bytes the real writers put on disk: a
    generatively finetuned model with its untied LM head (save_pretrained), a resume state at a save (save_state: the
    old state and the new side by side), early stops kept as models, and a hub model's weights in the cache."""
    from w2s.data.tokenizers import byte_tokenizer
    from w2s.hub import HubRef, local_copy
    from w2s.models.build import random_model
    from w2s.models.classifier import Classifier
    from w2s.pipeline.dry_run_jobs import Job
    from w2s.pipeline.fetch import human
    from w2s.pipeline.plan_disk import disk_lines
    from w2s.training.resume import save_state

    raw = tiny_config()
    shape = {
        **raw["models"]["strongling"]["build"],
        "arch": "gpt_neox",
    }  # GPT-NeoX unties its LM head
    raw["models"]["strongling"]["build"] = shape
    raw["models"]["hubling"] = {"path": "w2s-test/tiny-lm"}
    raw.setdefault("training", {}).update(
        early_stopping="weak_val", eval_every=2, checkpoint_every=5
    )
    config = validate_config(raw)
    run = {"model": "strongling", "dataset": "toy", "seed": "0"}
    jobs = [
        Job("train_ceiling", run),
        Job("train_student", {**run, "weak_model": "weakling"}),
        Job("generative_finetune", run),
    ]
    text = "\n".join(disk_lines(config, jobs))
    assert ": 0 B (not counted, not fetched yet: hubling)" in text
    cached = tensor_bytes(local_copy(HubRef("w2s-test/tiny-lm")) / "model.safetensors")
    text = "\n".join(disk_lines(config, jobs))

    language_model = random_model(tokenizer=byte_tokenizer(), **shape)
    assert not language_model.config.tie_word_embeddings
    language_model.save_pretrained(tmp_path / "lm", safe_serialization=True)
    saved_lm = tensor_bytes(tmp_path / "lm/model.safetensors")
    assert (
        f"generatively finetuned models kept (their untied LM heads included): {human(saved_lm)}"
        in text
    )

    classifier = Classifier(language_model.base_model)
    optimizer = torch.optim.AdamW(classifier.parameters())
    sum(p.sum() for p in classifier.parameters()).backward()  # every weight gets its moments
    optimizer.step()
    save_state(
        tmp_path / "resume",
        1,
        {"model": classifier.state_dict()},
        {"engine": optimizer.state_dict()},
    )
    state = sum(tensor_bytes(f) for f in (tmp_path / "resume/step1").glob("*.safetensors"))
    resume = re.search(r"the largest run's: ([\d.]+) (\w+)\); ([\d.]+) (\w+) if all 2 runs", text)
    assert resume.group(2) == human(2 * state).split()[1]
    assert float(resume.group(1)) == pytest.approx(float(human(2 * state).split()[0]), rel=0.02)

    weights = sum(p.numel() for p in classifier.parameters()) * 4
    assert (
        f"early stops kept as models (early_stopping weak_val: each run where it agreed best with its "
        f"supervision): {human(2 * weights)}" in text
    )  # the ceiling's and the student's

    hub = re.search(r"hub models in the cache \(.*\): (.*)$", text, re.MULTILINE)
    assert hub.group(1) == human(cached)


def kept_by(kept: list):
    """A saved-tensor hook that notes each tensor autograd keeps for the backward pass."""

    def keep(tensor):
        kept.append(tensor)
        return tensor

    return keep


def test_the_language_model_loss_keeps_no_fp32_log_probabilities_of_the_whole_batch():
    """Generative finetuning's loss and gradients (in bf16 autocast) are the batch's plain summed cross-entropy,
    while autograd keeps no fp32 tensor a vocabulary wide for the backward pass (each row's fp32 log-softmax is
    recomputed there): the plain form kept the whole batch's."""
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    from w2s.models.tokens import pad_batch
    from w2s.training.generative import token_loss_sum

    config = AutoConfig.for_model("qwen2", **SHAPES["qwen2"])
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    rows = [torch.randint(1, 1000, (n,)).tolist() for n in (12, 20, 7, 16)]

    def plain(model, rows):
        input_ids, mask = pad_batch(rows, 0)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1].float()
        targets = input_ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
        return F.cross_entropy(logits.reshape(-1, 1000), targets.reshape(-1), reduction="sum")

    results = {}
    for name, loss_of in (
        ("plain", plain),
        ("row by row", lambda m, r: token_loss_sum(m, r, 0, torch.device("cpu"), True)),
    ):
        model.zero_grad()
        kept: list[torch.Tensor] = []
        with torch.autograd.graph.saved_tensors_hooks(kept_by(kept), lambda t: t):
            loss = loss_of(model, rows)
        loss.backward()
        weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
        vocabulary_wide = sum(  # fp32 activations a vocabulary wide (the bf16 logits are kept either way)
            t.numel()
            for t in kept
            if t.dtype == torch.float32
            and t.shape[-1:] == (1000,)
            and t.untyped_storage().data_ptr() not in weights
        )
        results[name] = loss.item(), [p.grad.clone() for p in model.parameters()], vocabulary_wide
    (plain_loss, plain_grads, plain_kept), (loss, grads, kept) = results.values()
    assert loss == pytest.approx(plain_loss, rel=1e-5)
    for grad, plain_grad in zip(grads, plain_grads, strict=True):
        torch.testing.assert_close(grad, plain_grad, rtol=1e-3, atol=1e-5)
    assert plain_kept >= 4 * 19 * 1000 and kept == 0
