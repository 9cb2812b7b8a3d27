"""Converting a pickle-only snapshot: sharded weights keep their shards, and the index follows them."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from w2s.converted import convert_snapshot


def test_sharded_pickles_become_shards_of_safetensors_with_their_index(tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    shards = {
        "pytorch_model-00001-of-00002.bin": {"a.weight": torch.arange(6.0).reshape(2, 3)},
        "pytorch_model-00002-of-00002.bin": {"b.weight": torch.ones(4), "b.bias": torch.zeros(2)},
    }
    tied = torch.randn(3)
    shards["pytorch_model-00002-of-00002.bin"] |= {
        "c.weight": tied,
        "d.weight": tied,
    }  # one storage
    for name, state in shards.items():
        torch.save(state, snapshot / name)
    weight_map = {key: name for name, state in shards.items() for key in state}
    index = {"metadata": {"total_size": 0}, "weight_map": weight_map}
    (snapshot / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    (snapshot / "config.json").write_text("{}")
    out = convert_snapshot(snapshot, tmp_path / "out", "model x", {"repo_id": "x"})
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "conversion.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
    ]
    converted_map = json.loads((out / "model.safetensors.index.json").read_text())["weight_map"]
    for key, shard in converted_map.items():
        pickled = shards[weight_map[key]][key]
        assert torch.equal(load_file(out / shard)[key], pickled)
    assert set(converted_map) == set(weight_map)
    record = json.loads((out / "conversion.json").read_text())
    assert set(record["pickles_sha256"]) == set(shards) and record["repo_id"] == "x"
