"""Tests for w2s.models.classifier (Classifier pooling, position ids, checkpoints, path errors), w2s.models.tokens
and the identity of a model's files (w2s.models.paths)."""

import os
import shutil

import pytest
import torch

from w2s.errors import W2SError
from w2s.models.build import build_model
from w2s.models.classifier import Classifier, last_token_index, load_tokenizer
from w2s.models.paths import HASHED_BYTES, SAMPLED_BYTES, check_model_path, source_identity
from w2s.models.tokens import encode, pad_batch

TEXTS = ["hi", "hello world", "a much longer sentence than the others", "xyz!", "q"]


def token_ids(tokenizer, texts):
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


def left_pad(rows, pad_id):
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, width - len(row) :] = torch.tensor(row)
        mask[i, width - len(row) :] = 1
    return input_ids, mask


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize("arch", ["gpt2", "gpt_neox", "llama", "qwen2"])
def test_padding_side_does_not_change_logits(tmp_path, arch):
    path = build_model(
        tmp_path / arch, arch, hidden_size=16, num_layers=2, num_heads=2, max_position=64, seed=1
    )
    tokenizer = load_tokenizer(str(path))
    torch.manual_seed(0)
    model = Classifier.load(str(path), head_init="random").eval()
    rows = token_ids(tokenizer, TEXTS)
    assert len({len(r) for r in rows}) == len(
        rows
    )  # all lengths differ, so every row but one is padded

    with torch.no_grad():
        alone = torch.cat(
            [model(torch.tensor([r]), torch.ones(1, len(r), dtype=torch.long)) for r in rows]
        )
        right = model(*pad_batch(rows, tokenizer.pad_token_id))
        left = model(*left_pad(rows, tokenizer.pad_token_id))

    assert alone.shape == (len(TEXTS), 2)
    # A random head on a random backbone: logits are non-zero and differ between texts, so equality means something.
    assert alone.abs().min() > 1e-4
    assert torch.cdist(alone, alone).add(torch.eye(len(TEXTS))).min() > 1e-4
    assert torch.allclose(right, alone, atol=1e-5), (right - alone).abs().max()
    assert torch.allclose(left, alone, atol=1e-5), (left - alone).abs().max()


def test_last_token_index_right_and_left_padding():
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1, 1], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]])
    assert last_token_index(right).tolist() == [2, 0, 4]
    assert last_token_index(left).tolist() == [4, 4, 4]


def test_zero_head_gives_zero_logits(tiny_gpt2):
    tokenizer = load_tokenizer(str(tiny_gpt2))
    model = Classifier.load(str(tiny_gpt2)).eval()  # head_init defaults to "zero"
    with torch.no_grad():
        logits = model(*pad_batch(token_ids(tokenizer, TEXTS), tokenizer.pad_token_id))
    assert torch.equal(logits, torch.zeros(len(TEXTS), 2))
    assert torch.equal(torch.softmax(logits, -1)[:, 1], torch.full((len(TEXTS),), 0.5))


def test_unknown_head_init_is_an_error(tiny_gpt2):
    with pytest.raises(W2SError, match="head_init"):
        Classifier.load(str(tiny_gpt2), head_init="ones")


def test_save_and_load_round_trip(tiny_gpt2, tmp_path):
    tokenizer = load_tokenizer(str(tiny_gpt2))
    torch.manual_seed(3)
    model = Classifier.load(str(tiny_gpt2), head_init="random").eval()
    with (
        torch.no_grad()
    ):  # change the backbone too, so that the reload can't just be the base model again
        model.backbone.wte.weight.add_(0.1 * torch.randn_like(model.backbone.wte.weight))
    batch = pad_batch(token_ids(tokenizer, TEXTS), tokenizer.pad_token_id)
    with torch.no_grad():
        before = model(*batch)

    out = tmp_path / "checkpoint"
    model.save(out, tokenizer)
    names = {p.name for p in out.iterdir()}
    assert {
        "model.safetensors",
        "head.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
    } <= names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt"))]

    # Loading the checkpoint restores the saved head even though head_init says "zero".
    reloaded = Classifier.load(str(out)).eval()
    with torch.no_grad():
        after = reloaded(*batch)
    assert torch.equal(after, before)
    base = Classifier.load(str(tiny_gpt2), head_init="random").eval()
    with torch.no_grad():
        assert not torch.allclose(base(*batch), before)

    reloaded_tokenizer = load_tokenizer(str(out))
    assert reloaded_tokenizer.pad_token_id == tokenizer.pad_token_id
    assert token_ids(reloaded_tokenizer, TEXTS) == token_ids(tokenizer, TEXTS)


def test_gpt2s_gelu_is_fused_as_loaded_and_computes_hugging_faces_function(tmp_path):
    from transformers import AutoModel
    from transformers.activations import NewGELUActivation

    path = build_model(tmp_path / "gpt2", "gpt2", 32, 2, 2, max_position=64, seed=1)
    as_released = AutoModel.from_pretrained(path).eval()
    model = Classifier.load(str(path)).eval()
    kinds = {type(m) for m in model.modules()}
    assert NewGELUActivation not in kinds and torch.nn.GELU in kinds
    assert sum(type(m) is NewGELUActivation for m in as_released.modules()) == 2  # one per layer
    ids = torch.randint(3, 200, (3, 20), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        ours = model.backbone(input_ids=ids, attention_mask=mask).last_hidden_state
        theirs = as_released(input_ids=ids, attention_mask=mask).last_hidden_state
    assert torch.allclose(ours, theirs, atol=1e-5) and not torch.equal(ours, torch.zeros_like(ours))


def test_missing_local_path_is_a_w2s_error():
    with pytest.raises(W2SError, match=r"\./does/not/exist"):
        Classifier.load("./does/not/exist")
    with pytest.raises(W2SError, match=r"models\.weak\.path.*\./does/not/exist"):
        check_model_path("./does/not/exist", key="models.weak.path")


def test_check_model_path_accepts_dirs_and_hub_ids(tiny_gpt2, tmp_path):
    check_model_path(str(tiny_gpt2))
    check_model_path("gpt2")
    check_model_path("EleutherAI/pythia-70m")  # a hub id: not checked locally
    a_file = tmp_path / "weights.txt"
    a_file.write_text("x")
    with pytest.raises(W2SError, match="weights.txt"):
        check_model_path(str(a_file))


def test_encode_keeps_last_tokens_and_counts_truncations(tiny_gpt2):
    tokenizer = load_tokenizer(str(tiny_gpt2))
    texts = ["abcdefgh", "abcd", "xyz", "0123456789"]
    ids, truncated = encode(texts, tokenizer, max_length=4)
    assert truncated == 2  # "abcd" is exactly max_length: not truncated
    assert ids == token_ids(tokenizer, ["efgh", "abcd", "xyz", "6789"])
    ids, truncated = encode(texts, tokenizer, max_length=100)
    assert truncated == 0
    assert ids == token_ids(tokenizer, texts)


def test_encode_adds_the_tokenizers_bos_and_keeps_it_when_truncating():
    """A Llama-style tokenizer starts every text with BOS (the reference code tokenises with the default
    add_special_tokens=True); truncation drops text tokens, never the BOS."""
    from tokenizers.processors import TemplateProcessing

    from w2s.data.tokenizers import EOS, byte_tokenizer

    tokenizer = byte_tokenizer()
    bos = tokenizer.convert_tokens_to_ids(EOS)
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"{EOS} $A", special_tokens=[(EOS, bos)]
    )
    assert tokenizer("ab")["input_ids"] == [bos, *token_ids(tokenizer, ["ab"])[0]]
    ids, truncated = encode(["abcdefgh", "xy"], tokenizer, max_length=4)
    assert ids == [
        [bos, *token_ids(tokenizer, ["fgh"])[0]],
        [bos, *token_ids(tokenizer, ["xy"])[0]],
    ]
    assert truncated == 1
    with pytest.raises(W2SError, match="max_length 1 leaves no room"):
        encode(["ab"], tokenizer, max_length=1)


def test_pad_batch_right_pads():
    input_ids, mask = pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert input_ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]]


def test_max_tokens_is_capped_at_the_context_window(tiny_gpt2):
    model = Classifier.load(str(tiny_gpt2))
    assert model.max_tokens(64) == 64
    assert model.max_tokens(10_000) == 128  # the fixture's max_position


def test_source_identity_follows_a_models_files_not_their_times(tmp_path):
    """What a resumable state and a LoRA checkpoint's base record: every file's name and size, small files whole,
    large ones by their first and last MiB."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    weights = model / "model.safetensors"
    weights.write_bytes(bytes(HASHED_BYTES + 3 * SAMPLED_BYTES))
    first = source_identity(str(model))
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    os.utime(copy / "model.safetensors", (0, 0))
    assert (
        source_identity(str(copy)) == first
    )  # a copy elsewhere, with other times, is the same model
    for offset in (
        0,
        HASHED_BYTES + 3 * SAMPLED_BYTES - 1,
    ):  # the first and the last byte of the large file
        with open(copy / "model.safetensors", "r+b") as f:
            f.seek(offset)
            f.write(b"\x01")
        assert source_identity(str(copy)) != first
        with open(copy / "model.safetensors", "r+b") as f:
            f.seek(offset)
            f.write(b"\x00")
    assert source_identity(str(copy)) == first
    (copy / "config.json").write_text('{"n_layer": 2}')
    assert source_identity(str(copy)) != first
    assert (
        source_identity("no-such-org/no-such-model") == "no-such-org/no-such-model"
    )  # a hub id not cached
