"""Hub models at a revision, `w2s fetch` and what `w2s plan` says is not yet fetched, against the local hub."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from snakemake_helpers import tiny_config

from w2s.converted import sha256
from w2s.errors import W2SError
from w2s.hub import HubRef, local_copy, model_ref
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.paths import source_identity
from w2s.pipeline.config import validate_config
from w2s.pipeline.fetch import describe_pending, fetch_grid, hub_references

pytestmark = pytest.mark.usefixtures("private_datasets_cache")


def weights(folder) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


@pytest.mark.usefixtures("empty_hub_cache")
def test_a_revision_loads_that_revisions_weights_and_identity(hub_models):
    _, folders = hub_models
    for spec, revision in (("w2s-test/tiny-lm", "main"), ("w2s-test/tiny-lm@step1", "step1")):
        loaded = Classifier.load(spec).backbone.state_dict()
        saved = weights(folders[revision])
        assert set(saved) <= {f"transformer.{k}" for k in loaded} | set(loaded)
        name = next(iter(saved))
        assert torch.equal(loaded[name.removeprefix("transformer.")], saved[name]), spec
        assert load_tokenizer(spec)("e0042=17.")["input_ids"]
    assert not torch.equal(
        *(weights(folders[r])["transformer.wte.weight"] for r in ("main", "step1"))
    )
    assert source_identity("w2s-test/tiny-lm") != source_identity("w2s-test/tiny-lm@step1")


@pytest.mark.usefixtures("empty_hub_cache")
def test_a_hub_model_downloads_what_loading_reads_and_no_other_weights(hub_models):
    snapshot = local_copy(HubRef("w2s-test/tiny-lm"))
    names = {p.name for p in snapshot.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert not names & {"pytorch_model.bin", "flax_model.msgpack"}


@pytest.mark.usefixtures("empty_hub_cache", "hub_models")
def test_an_unknown_revision_is_named():
    with pytest.raises(
        W2SError,
        match="model w2s-test/tiny-lm at revision step9: the hub has no such repository or "
        "revision",
    ):
        Classifier.load("w2s-test/tiny-lm@step9")


def test_a_job_offline_names_what_is_missing_and_the_fetch_command(hub_models, tmp_path):
    code = "from w2s.models.classifier import Classifier; Classifier.load('w2s-test/tiny-lm@step1')"
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "empty"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert (
        "model w2s-test/tiny-lm at revision step1 is not in the Hugging Face cache "
        f"{tmp_path / 'empty'} and the hub is offline (HF_HUB_OFFLINE): run `w2s fetch <config>`"
    ) in result.stderr


def hub_grid() -> dict:
    config = tiny_config(
        datasets={
            "sciq": {"kind": "sciq", "n_weak_train": 8, "n_strong_train": 8, "n_test": 8},
            "ethics": {
                "kind": "ethics_virtue",
                "n_weak_train": 8,
                "n_strong_train": 8,
                "n_test": 8,
            },
        }
    )
    config["models"]["weakling"] = {
        "path": "w2s-test/tiny-lm",
        "revision": "step1",
        "max_length": 48,
    }
    return validate_config(config)


@pytest.mark.usefixtures("hub_tasks", "hub_models")
def test_fetch_downloads_and_checks_the_grids_hub_repositories_and_plan_says_what_is_missing(
    empty_hub_cache,
):
    config = hub_grid()
    refs = hub_references(config)
    assert {str(ref): keys for ref, keys in refs.items()} == {
        "model w2s-test/tiny-lm at revision step1": ["models.weakling"],
        "dataset allenai/sciq at revision main": ["datasets.sciq"],
        "dataset hendrycks/ethics at revision refs/convert/parquet": ["datasets.ethics"],
    }
    before = "\n".join(describe_pending(config))
    assert before.count("NOT fetched (") == 3 and "fetched: " not in before

    lines = []
    total = fetch_grid(config, lines.append)
    snapshots = [str(local_copy(ref)) for ref in refs]
    assert sum(line.endswith(f"verified: {path}") for line in lines for path in snapshots) == 3
    cached = sum(f.stat().st_size for r in refs for f in local_copy(r).rglob("*") if f.is_file())
    assert total == cached > 0
    after = "\n".join(describe_pending(config))
    assert after.count("fetched: ") == 3 and "NOT" not in after
    # only the task's own subset of the ETHICS export, and no weights w2s never loads
    ethics = local_copy(next(r for r in refs if r.repo_id == "hendrycks/ethics"))
    assert {p.parts[len(ethics.parts)] for p in ethics.rglob("*.parquet")} == {"virtue"}

    # A file changed in the cache is found, and named.
    blob = (local_copy(next(r for r in refs if r.kind == "model")) / "config.json").resolve()
    blob.chmod(0o644)
    blob.write_text(blob.read_text().replace('"n_embd": 8', '"n_embd": 9'))
    with pytest.raises(
        W2SError,
        match=r"model w2s-test/tiny-lm at revision step1: config.json: git-sha1 \w+ where "
        r"the hub has \w+ \(changed since it was downloaded: delete .* and fetch",
    ):
        fetch_grid(config, lines.append)


@pytest.mark.usefixtures("empty_hub_cache", "hub_tasks", "hub_models")
def test_fetch_refuses_a_revision_with_pickled_weights_only():
    config = hub_grid()
    config["models"]["weakling"]["revision"] = "pickled"
    with pytest.raises(
        W2SError,
        match=r"model w2s-test/tiny-lm at revision pickled: no safetensors weights at this "
        r"revision \(only pytorch_model.bin\): w2s loads no pickled weights unless the model entry opts in "
        r"with convert_pickle: true",
    ):
        fetch_grid(config, lambda line: None)


def converted_grid(revision: str) -> dict:
    config = hub_grid()
    config["models"]["weakling"].update(revision=revision, convert_pickle=True)
    return validate_config(config)


@pytest.mark.usefixtures("hub_tasks")
def test_a_pickle_only_revision_loads_after_the_opt_in_conversion(hub_models, empty_hub_cache):
    _, folders = hub_models
    config = converted_grid("step1-pickled")
    spec = "w2s-test/tiny-lm@step1-pickled:converted"
    assert model_ref(spec) in hub_references(config)  # the model's identity says it is converted
    fetch_grid(config, lambda line: None)
    folder = local_copy(model_ref(spec))
    assert folder.parent.parent.name == "w2s-converted"  # in the cache, beside the snapshots
    assert not list(folder.glob("*.bin")) and (folder / "tokenizer.json").is_file()
    record = json.loads((folder / "conversion.json").read_text())
    snapshot = local_copy(HubRef("w2s-test/tiny-lm", "step1-pickled"))
    assert record["revision"] == "step1-pickled" and record["commit"] == folder.name
    assert record["pickles_sha256"] == {"pytorch_model.bin": sha256(snapshot / "pytorch_model.bin")}
    saved, converted = weights(folders["step1"]), weights(folder)
    assert saved.keys() == converted.keys()
    assert all(torch.equal(saved[k], converted[k]) for k in saved)
    loaded = Classifier.load(spec).backbone.state_dict()
    name = "wte.weight"
    assert torch.equal(loaded[name], saved[f"transformer.{name}"])
    assert source_identity(spec) != source_identity("w2s-test/tiny-lm@step1-pickled")


@pytest.mark.usefixtures("hub_tasks")
def test_a_pickle_carrying_other_objects_is_refused_and_never_run(hub_models, empty_hub_cache):
    _, folders = hub_models
    config = converted_grid("payload")
    with pytest.raises(
        W2SError,
        match=r"model w2s-test/tiny-lm at revision payload \(its pickled weights converted\): "
        r"pytorch_model.bin is not a pickle of tensors only, so it was not converted \(torch.load with "
        r"weights_only=True refused it",
    ):
        fetch_grid(config, lambda line: None)
    assert not list(Path(empty_hub_cache).glob("w2s-converted/*/*"))  # nothing half-written
    assert not (
        folders["main"].parent / "PAYLOAD_RAN"
    ).exists()  # where unpickling it would have written


def test_convert_pickle_is_for_hub_revisions_only():
    config = tiny_config()
    config["models"]["weakling"]["convert_pickle"] = True
    with pytest.raises(
        W2SError, match=r"config key models.weakling.convert_pickle: conversion is of a hub"
    ):
        validate_config(config)
