"""Bad configs and bad data stop the run with a message naming the key, file, column or row, and leave no output."""

from __future__ import annotations

import polars as pl
import pytest
from snakemake_helpers import snakemake, tiny_config, write_config


def dry_run_error(tmp_path, config: dict) -> str:
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--dry-run", "--cores", "1", check=False)
    assert result.returncode != 0
    return result.stdout + result.stderr


def test_unknown_key_is_named(tmp_path):
    config = tiny_config()
    config["models"]["weakling"]["lrr"] = 1e-3
    output = dry_run_error(tmp_path, config)
    assert "config key models.weakling" in output and "'lrr' was unexpected" in output


def test_wrong_type_is_named(tmp_path):
    config = tiny_config()
    config["models"]["strongling"]["lr"] = "fast"
    assert "config key models.strongling.lr: 'fast' is not of type 'number'" in dry_run_error(tmp_path, config)


def test_wrong_type_in_training_defaults_is_named(tmp_path):
    config = tiny_config()
    config["training"]["epochs"] = 0
    assert "config key training.epochs" in dry_run_error(tmp_path, config)


def test_pair_with_undeclared_model_is_named(tmp_path):
    config = tiny_config(pairs=[{"weak": "weakling", "strong": "giant"}])
    output = dry_run_error(tmp_path, config)
    assert "config key pairs.0.strong: model 'giant' is not declared under models" in output


def test_missing_model_path_is_named(tmp_path):
    config = tiny_config()
    config["models"]["weakling"] = {"path": "./models/not-there", "lr": 1e-3}
    output = dry_run_error(tmp_path, config)
    assert "config key models.weakling.path: './models/not-there' is not a directory" in output


def test_model_needs_path_or_build(tmp_path):
    config = tiny_config()
    config["models"]["weakling"] = {"lr": 1e-3}
    expected = "config key models.weakling: give exactly one of 'path', 'build', 'pretrain'"
    assert expected in dry_run_error(tmp_path, config)


def run_local_dataset(tmp_path, frame: pl.DataFrame, **sizes) -> str:
    """Run the data stage on a local csv; return the console output of the failed run."""
    frame.write_csv(tmp_path / "data.csv")
    config = tiny_config()
    config["datasets"] = {"mine": {"kind": "local", "options": {"path": str(tmp_path / "data.csv")},
                                   "n_weak_train": 4, "n_strong_train": 4, "n_test": 4, **sizes}}
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--cores", "1", "results/data/mine/seed0/test.parquet", check=False)
    assert result.returncode != 0
    assert not list((tmp_path / "results").rglob("*.parquet")), "a failed data stage left output behind"
    return result.stdout + result.stderr


def texts(n: int) -> list[str]:
    return [f"example {i}" for i in range(n)]


def test_missing_label_column_is_named(tmp_path):
    output = run_local_dataset(tmp_path, pl.DataFrame({"text": texts(20), "target": [0, 1] * 10}))
    assert f"data file {tmp_path / 'data.csv'}: missing column 'label'" in output


def test_label_outside_0_1_names_the_row(tmp_path):
    labels = [0, 1] * 10
    labels[7] = 2
    output = run_local_dataset(tmp_path, pl.DataFrame({"text": texts(20), "label": labels}))
    assert "column 'label' must hold labels 0 or 1; row 7 has 2" in output


def test_too_few_rows_after_balancing(tmp_path):
    output = run_local_dataset(tmp_path, pl.DataFrame({"text": texts(20), "label": [1] * 16 + [0] * 4}))
    assert "too few rows after balancing classes 50/50" in output and "hold only 4 and 6" in output


@pytest.mark.parametrize("sizes", [{"n_test": 3}])
def test_odd_split_sizes_still_balance(tmp_path, sizes):
    pl.DataFrame({"text": texts(40), "label": [0, 1] * 20}).write_csv(tmp_path / "data.csv")
    config = tiny_config()
    config["datasets"] = {"mine": {"kind": "local", "options": {"path": str(tmp_path / "data.csv")},
                                   "n_weak_train": 4, "n_strong_train": 4, **sizes}}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "1", "results/data/mine/seed0/test.parquet")
    test = pl.read_parquet(tmp_path / "results/data/mine/seed0/test.parquet")
    assert test.height == 3 and test["label"].sum() == 2
