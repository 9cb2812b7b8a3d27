"""Nothing stale, nothing silent: results follow their inputs, and faults end in one clear sentence with no partial
output left behind. Each test reproduces a way the workflow once went wrong."""

from __future__ import annotations

import copy

import numpy as np
import polars as pl
import pytest
import torch
import yaml
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config

from w2s.analysis.predictions import prediction_table
from w2s.errors import W2SError
from w2s.models.build import build_model
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.tokens import encode
from w2s.pipeline import grid
from w2s.pipeline.config import validate_config
from w2s.pipeline.run import run_fingerprint
from w2s.training.loop import Diverged, TrainSettings, train
from w2s.training.losses import XentLoss

# --- provenance: a result's identity covers everything it depends on ------------------------------------------------


def test_resume_state_does_not_survive_a_rebuilt_base_model(tmp_path):
    """A student killed mid-training must not resume from its saved state once the base model it started from was
    rebuilt (another build seed, pretraining setting, or edited local files): the fingerprint covers the model's
    contents, not just its path."""
    base = tmp_path / "base"
    build_model(base, "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=0)
    params = {"source": str(base), "settings": {"lr": 1e-3}}
    train_file = tmp_path / "train.parquet"
    pl.DataFrame({"id": ["a"], "text": ["x"], "label": [1]}).write_parquet(train_file)
    before = run_fingerprint(params, {"type": "xent"}, "label", train_file)
    assert run_fingerprint(params, {"type": "xent"}, "label", train_file) == before
    build_model(base, "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=1)
    assert run_fingerprint(params, {"type": "xent"}, "label", train_file) != before


def test_editing_a_local_dataset_file_reruns_its_splits(tmp_path):
    """The split job reads the CSV: it is the job's input, so changing it reruns the splits (and what follows)."""
    data = tmp_path / "data.csv"
    pl.DataFrame({"text": [f"row {i}" for i in range(80)], "label": [i % 2 for i in range(80)]}).write_csv(data)
    config = tiny_config(datasets={"mine": {"kind": "local", "options": {"path": str(data)},
                                            "n_weak_train": 20, "n_strong_train": 20, "n_test": 20}})
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "1", "results/data/mine/seed0/test.parquet")
    assert planned_jobs(tmp_path).get("split_dataset") is None  # the splits are up to date
    flipped = pl.read_csv(data).with_columns(1 - pl.col("label"))
    flipped.write_csv(data)
    assert planned_jobs(tmp_path)["split_dataset"] == 1


def test_every_file_of_local_model_and_dataset_directories_is_an_input(tmp_path):
    model = build_model(tmp_path / "lm", "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=0)
    (model / ".cache").mkdir()
    (model / ".cache" / "lock").write_text("")
    config = tiny_config()
    config["models"]["local"] = {"path": str(model)}
    config["datasets"]["hub_copy"] = {"kind": "sciq", "options": {"source": str(tmp_path / "lm")}}
    config["datasets"]["files"] = {"kind": "boolq", "options": {"data_files": ["a.jsonl", "b.jsonl"]}}
    files = sorted(str(p) for p in model.iterdir() if p.is_file())
    assert grid.base_model_inputs(config, "local") == files and "config.json" in " ".join(files)
    assert grid.dataset_inputs(config, "hub_copy") == files  # hidden folders are left out
    assert grid.dataset_inputs(config, "files") == ["a.jsonl", "b.jsonl"]
    assert grid.base_model_inputs(config, "weakling") == ["results/base_models/weakling"]


# --- divergence: a NaN is an error, never a result -----------------------------------------------------------------


def test_a_diverging_run_stops_with_the_step_and_the_learning_rate(tiny_gpt2):
    tokenizer = load_tokenizer(str(tiny_gpt2))
    model = Classifier.load(str(tiny_gpt2), head_init="random")
    ids, _ = encode(["good", "bad", "fine", "awful"] * 4, tokenizer, 16)
    settings = TrainSettings(lr=1e30, batch_size=4, minibatch_size=4, epochs=2, autocast="off")
    with pytest.raises(Diverged, match=r"the loss is (nan|inf) at step \d+ of 8 \(learning rate .*lower the learning"):
        train(copy.deepcopy(model), ids, torch.tensor([1.0, 0.0] * 8), XentLoss(), settings, tokenizer.pad_token_id)


def test_non_finite_predictions_are_an_error_not_a_table():
    frame = pl.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "label": [1, 0]})
    with pytest.raises(W2SError, match="1 of 2 predictions are not finite"):
        prediction_table(frame, np.array([0.3, np.nan]))


# --- config: every mistake named at start, before any job runs ----------------------------------------------------


def test_a_duplicate_model_key_is_an_error_naming_file_and_lines(tmp_path):
    """YAML keeps the second of two equal keys: one model would silently replace the other."""
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_config(), sort_keys=False).replace(
        "  strongling:", "  weakling:\n    build: {arch: gpt2, hidden_size: 4, num_layers: 1, num_heads: 1}\n"
        "  strongling:", 1))
    result = snakemake(tmp_path, "--dry-run", "--cores", "1", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"config file {config}: key 'weakling' appears twice in one mapping, at lines" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["datasets"]["toy"].update(n_test=32.0),
     "config key datasets.toy.n_test: 32.0 is not of type 'integer'"),
    (lambda c: c.update(seeds=[0.0]), "config key seeds.0: 0.0 is not of type 'integer'"),
    (lambda c: c.update(seeds=[0, 0]), "config key seeds: [0, 0] has non-unique elements"),
    (lambda c: c["models"]["weakling"].update(lr=float("nan")), "config key models.weakling.lr: nan is not a finite"),
    (lambda c: c["models"]["weakling"].update(lr=float("inf")), "config key models.weakling.lr: inf is not a finite"),
    (lambda c: c["losses"].update(plain={"type": "xent", "alpha_max": 0.5}),
     "config key losses.plain: loss type 'xent' takes no parameter 'alpha_max' (it takes none)"),
    (lambda c: c["losses"].update(prod={"type": "product", "warmup_frac": 0.1}),
     "config key losses.prod: loss type 'product' takes no parameter 'warmup_frac' (it takes ['alpha', 'beta'])"),
], ids=["float_integer", "float_seed", "duplicate_seeds", "nan_lr", "inf_lr", "xent_parameter", "product_parameter"])
def test_config_mistakes_that_used_to_fail_late_are_named_at_start(change, message):
    config = tiny_config()
    change(config)
    with pytest.raises(W2SError) as error:
        validate_config(config)
    assert str(error.value).startswith(message)
