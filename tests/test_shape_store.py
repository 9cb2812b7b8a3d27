"""The shape store (w2s.pipeline.shape_store): a model's counted shape is read back by a later process without
counting (nor importing torch), and anything its count is made from, changed, counts again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from snakemake_helpers import REPO, tiny_config

from w2s.pipeline import model_shapes
from w2s.pipeline.config import validate_config


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("W2S_CACHE", str(tmp_path / "store"))
    return tmp_path / "store" / "shapes"


@pytest.fixture
def counts(monkeypatch):
    """The models count_shape counts, in order."""
    counted = []

    def count(config, model, outputs=2):
        counted.append(model)
        return real(config, model, outputs)

    real = model_shapes.count_shape
    monkeypatch.setattr(model_shapes, "count_shape", count)
    return counted


def test_a_shape_counted_once_is_read_by_a_later_process_without_torch(store, tmp_path):
    config = validate_config(tiny_config())
    counted = model_shapes.stored_shape(config, "strongling")
    assert len(list(store.glob("*.json"))) == 1
    (tmp_path / "config.json").write_text(json.dumps(config))
    script = (
        "import json, sys\n"
        "from w2s.pipeline.model_shapes import stored_shape\n"
        f"shape, stored = stored_shape(json.load(open({str(tmp_path / 'config.json')!r})), 'strongling')\n"
        "print(json.dumps([shape.params, shape.trained, shape.layers, stored, 'torch' in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "W2S_CACHE": str(store.parent)},
        check=True,
    )
    shape, stored = counted
    assert json.loads(result.stdout) == [shape.params, shape.trained, shape.layers, stored, False]


def test_what_a_count_is_made_from_changed_counts_again(store, counts):
    config = validate_config(tiny_config())
    first = model_shapes.stored_shape(config, "strongling")
    assert model_shapes.stored_shape(config, "strongling") == first and counts == ["strongling"]
    one_output = model_shapes.stored_shape(config, "strongling", outputs=1)
    assert one_output[0].params == first[0].params - 17  # a head of 16 weights and a bias less
    adapted = tiny_config()
    adapted["models"]["strongling"]["lora"] = {"r": 2}
    with_adapters = model_shapes.stored_shape(validate_config(adapted), "strongling")
    assert with_adapters[1] < first[1]  # its checkpoint: the adapters and head alone
    assert counts == ["strongling"] * 3 and len(list(store.glob("*.json"))) == 3


def test_a_damaged_record_is_counted_again_and_replaced(store, counts):
    config = validate_config(tiny_config())
    shape = model_shapes.stored_shape(config, "weakling")
    (record,) = store.glob("*.json")
    for damage in ("{not json", json.dumps({"shape": {"params": 1}, "stored": 1}), "[]"):
        record.write_text(damage)
        assert model_shapes.stored_shape(config, "weakling") == shape
    assert len(counts) == 4 and json.loads(record.read_text())["stored"] == shape[1]


def test_a_store_that_cannot_be_written_only_costs_the_count(store, counts):
    store.parent.parent.mkdir(parents=True, exist_ok=True)
    store.parent.write_text("a file where the store's folder would be")
    config = validate_config(tiny_config())
    shape = model_shapes.stored_shape(config, "weakling")
    assert model_shapes.stored_shape(config, "weakling") == shape and len(counts) == 2


def test_a_local_models_record_follows_its_config_json(store, counts, tiny_gpt2, tmp_path):
    """A model loaded from a folder (or a hub snapshot) is counted from its config.json: a new one counts again, and a
    model whose code is its repository's own (trust_remote_code) is never stored."""
    local = tmp_path / "model"
    shutil.copytree(tiny_gpt2, local)
    config = tiny_config()
    config["models"]["strongling"] = {"path": str(local), "max_length": 32}
    config = validate_config(config)
    one_layer = model_shapes.stored_shape(config, "strongling")
    assert model_shapes.stored_shape(config, "strongling") == one_layer and len(counts) == 1
    settings = json.loads((local / "config.json").read_text())
    (local / "config.json").write_text(json.dumps({**settings, "n_layer": 2}))
    assert model_shapes.stored_shape(config, "strongling")[0].layers == 2 and len(counts) == 2

    config["models"]["strongling"]["trust_remote_code"] = True
    stored = len(list(store.glob("*.json")))
    model_shapes.stored_shape(config, "strongling")
    model_shapes.stored_shape(config, "strongling")
    assert len(counts) == 4 and len(list(store.glob("*.json"))) == stored


def test_without_a_home_folder_the_shape_is_counted_and_not_stored(monkeypatch, counts):
    monkeypatch.delenv("W2S_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home():
        raise RuntimeError("Could not determine home directory.")  # as pathlib says it

    monkeypatch.setattr("pathlib.Path.home", no_home)
    config = validate_config(tiny_config())
    assert model_shapes.stored_shape(config, "weakling") is not None and counts == ["weakling"]
