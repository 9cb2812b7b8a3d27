"""The fault table: bad configs, data, models and faults while running, each through a real Snakemake run of the tiny
grid. Every case must end the run with a non-zero exit, print its one sentence (naming the key, file, line or row),
and leave no output of the job that failed, nor any half-written file, for a later stage to mistake for a result."""

from __future__ import annotations

import math
import os
import re
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import torch
from safetensors.torch import load_file
from snakemake_helpers import snakemake, tiny_config, write_config

from w2s.models.build import build_model

pytestmark = pytest.mark.workflow

WEAK = "results/weak/toy/seed0/weakling"
LABELS = "results/labels/toy/seed0/weakling.parquet"
STUDENT = "results/student/toy/seed0/weakling/strongling/xent"
SPLITS = "results/data/toy/seed0"
MINE = "results/data/mine/seed0/test.parquet"  # the split of a local dataset named "mine"
# Names of half-written files (io.atomic_path's temporaries, a resumable state being saved)
HALF_WRITTEN = re.compile(r"\.tmp\d+$|\.old\d+$|\.partial$")


@dataclass
class Case:
    change: Callable[
        [Path, dict], None
    ]  # edits the tiny config and writes files into the working directory
    target: str  # what Snakemake is asked to make
    message: str  # a line of the failed run's output must contain this ({workdir} is filled in)
    absent: tuple[str, ...] = (
        "results",
    )  # what must not exist afterwards: the failed job's outputs
    prepare: tuple[str, ...] = ()  # made (successfully) before `damage`
    damage: Callable[[Path], None] | None = (
        None  # a fault applied to the working directory after `prepare`
    )
    file_size_limit: int | None = (
        None  # RLIMIT_FSIZE for the failing run: a full disk, as the job sees it
    )


def set_in(dotted: str, value) -> Callable[[Path, dict], None]:
    def change(workdir: Path, config: dict) -> None:
        *parents, last = dotted.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def no_change(workdir: Path, config: dict) -> None:
    pass


# --- config: found before any job runs --------------------------------------------------------------------------


def append_duplicate_seeds(workdir: Path, config: dict) -> None:
    config["_append"] = "seeds: [1]\n"  # written after the dump: a second top-level `seeds`


def model_dir_without_config(workdir: Path, config: dict) -> None:
    (workdir / "models/empty").mkdir(parents=True)
    config["models"]["weakling"] = {"path": str(workdir / "models/empty")}


CONFIG = {
    "unknown_key": Case(
        set_in("models.weakling.lrr", 1e-3),
        "all",
        "config key models.weakling: Additional properties are not allowed ('lrr' was unexpected)",
    ),
    "wrong_type": Case(
        set_in("models.strongling.lr", "fast"),
        "all",
        "config key models.strongling.lr: 'fast' is not of type 'number'",
    ),
    "zero_epochs": Case(
        set_in("training.epochs", 0),
        "all",
        "config key training.epochs: 0 is less than the minimum",
    ),
    "undeclared_pair_model": Case(
        set_in("pairs", [{"weak": "weakling", "strong": "giant"}]),
        "all",
        "config key pairs.0.strong: model 'giant' is not declared under models",
    ),
    "missing_model_path": Case(
        set_in("models.weakling", {"path": "./models/not-there"}),
        "all",
        "config key models.weakling.path: './models/not-there' is not a directory",
    ),
    "no_model_source": Case(
        set_in("models.weakling", {"lr": 1e-3}),
        "all",
        "config key models.weakling: give exactly one of 'path', 'build', 'pretrain'",
    ),
    "duplicate_yaml_key": Case(
        append_duplicate_seeds,
        "all",
        "config file {workdir}/config.yaml: key 'seeds' appears twice in one mapping, at lines "
        "1 and ",
    ),
    "nan_lr": Case(
        set_in("models.weakling.lr", math.nan),
        "all",
        "config key models.weakling.lr: nan is not a finite",
    ),
    "float_integer": Case(
        set_in("datasets.toy.n_test", 32.0),
        "all",
        "config key datasets.toy.n_test: 32.0 is not of type 'integer'",
    ),
    "duplicate_seeds": Case(
        set_in("seeds", [0, 0]), "all", "config key seeds: [0, 0] has non-unique elements"
    ),
    "loss_parameter": Case(
        set_in("losses.xent.alpha_max", 0.5),
        "all",
        "config key losses.xent: loss type 'xent' takes no parameter 'alpha_max'",
    ),
    "shards_beyond_rows": Case(
        set_in("labelling", {"shards": 49}),
        "all",
        "config key labelling.shards: 49 shards of dataset toy's 48 strong_train",
    ),
    "model_dir_without_config_json": Case(
        model_dir_without_config,
        "all",
        "models.weakling.path: '{workdir}/models/empty' has no config.json",
    ),
}


# --- data: found by the split job, which names the file and row --------------------------------------------------


def local_dataset(
    frame: pl.DataFrame | bytes | None, name: str = "data.csv"
) -> Callable[[Path, dict], None]:
    """A local dataset "mine" read from `name` (a table, raw bytes, or no file at all)."""

    def change(workdir: Path, config: dict) -> None:
        path = workdir / name
        if isinstance(frame, pl.DataFrame):
            {".csv": frame.write_csv, ".parquet": frame.write_parquet}.get(
                path.suffix, frame.write_csv
            )(path)
        elif frame is not None:
            path.write_bytes(frame)
        config["datasets"] = {
            "mine": {
                "kind": "local",
                "options": {"path": str(path)},
                "n_weak_train": 4,
                "n_strong_train": 4,
                "n_test": 4,
            }
        }

    return change


def texts(n: int) -> list[str]:
    return [f"example {i}" for i in range(n)]


def with_row(values: list, row: int, value) -> list:
    values = list(values)
    values[row] = value
    return values


DATA = {
    "missing_file": Case(local_dataset(None), MINE, "Missing input files for rule split_dataset"),
    "missing_label_column": Case(
        local_dataset(pl.DataFrame({"text": texts(20), "target": [0, 1] * 10})),
        MINE,
        "data file {workdir}/data.csv: missing column 'label'",
    ),
    "label_out_of_range": Case(
        local_dataset(pl.DataFrame({"text": texts(20), "label": with_row([0, 1] * 10, 7, 2)})),
        MINE,
        "column 'label' must hold labels 0 or 1; row 7 has 2",
    ),
    "nan_label": Case(
        local_dataset(
            pl.DataFrame({"text": texts(20), "label": with_row([0.0, 1.0] * 10, 5, math.nan)}),
            "data.parquet",
        ),
        MINE,
        "column 'label' must hold labels 0 or 1; row 5 has nan",
    ),
    "empty_text": Case(
        local_dataset(pl.DataFrame({"text": with_row(texts(20), 3, "  "), "label": [0, 1] * 10})),
        MINE,
        "column 'text' is empty in 1 rows (first: row 3)",
    ),
    "too_few_rows_after_balancing": Case(
        local_dataset(pl.DataFrame({"text": texts(20), "label": [1] * 16 + [0] * 4})),
        MINE,
        "too few rows after balancing classes 50/50",
    ),
    "unsupported_extension": Case(
        local_dataset(b"text,label\na,1\n", "data.txt"),
        MINE,
        "data file {workdir}/data.txt: unsupported extension '.txt'",
    ),
    "not_a_parquet_file": Case(
        local_dataset(b"PAR1 this is not parquet", "data.parquet"),
        MINE,
        "data file {workdir}/data.parquet could not be read as parquet",
    ),
}


# --- models: a local model directory that cannot be used, found by the job that loads it -------------------------


def local_weak_model(damage: Callable[[Path], None]) -> Callable[[Path, dict], None]:
    def change(workdir: Path, config: dict) -> None:
        path = build_model(
            workdir / "models/weak",
            "gpt2",
            hidden_size=8,
            num_layers=1,
            num_heads=2,
            max_position=64,
            seed=0,
        )
        damage(path)
        config["models"]["weakling"] = {
            "path": str(path),
            "lr": 1e-3,
            "batch_size": 16,
            "minibatch_size": 8,
            "max_length": 48,
        }

    return change


def remove_tokenizer(path: Path) -> None:
    for file in path.iterdir():
        if "token" in file.name or file.name in ("vocab.json", "merges.txt"):
            file.unlink()


@dataclass
class Payload:
    """Unpickling this creates `marker`: loading it must never happen."""

    marker: Path

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def pickle_weights_with_a_payload(path: Path) -> None:
    weights = load_file(path / "model.safetensors")
    (path / "model.safetensors").unlink()
    workdir = path.parents[1]
    torch.save({**weights, "payload": Payload(workdir / "PAYLOAD_RAN")}, path / "pytorch_model.bin")


def garble_config_json(path: Path) -> None:
    (path / "config.json").write_text('{"model_type": "gpt2", "n_embd": ')


WEAK_OUTPUTS = (f"{WEAK}/metrics.json", f"{WEAK}/checkpoint", LABELS)
MODEL = {
    "no_tokenizer": Case(
        local_weak_model(remove_tokenizer),
        f"{WEAK}/metrics.json",
        "could not load the tokenizer of model '{workdir}/models/weak': none of",
        WEAK_OUTPUTS,
    ),
    "pickled_weights_with_payload": Case(
        local_weak_model(pickle_weights_with_a_payload),
        f"{WEAK}/metrics.json",
        "model '{workdir}/models/weak' has only pickled weights (pytorch_model.bin)",
        (*WEAK_OUTPUTS, "PAYLOAD_RAN"),
    ),
    "garbled_config_json": Case(
        local_weak_model(garble_config_json),
        f"{WEAK}/metrics.json",
        "config key models.weakling.path: '{workdir}/models/weak' has a config.json that is "
        "not valid JSON (Expecting value: line 1 column 34",
    ),
}


# --- faults while running -----------------------------------------------------------------------------------------


def truncate(relative: str) -> Callable[[Path], None]:
    def damage(workdir: Path) -> None:
        path = workdir / relative
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return damage


FAULTS = {
    "diverging_learning_rate": Case(
        set_in("models.weakling.lr", 1e20),
        f"{WEAK}/metrics.json",
        "training diverged: the loss is",
        WEAK_OUTPUTS,
    ),
    "truncated_split": Case(
        no_change,
        f"{WEAK}/metrics.json",
        f"{SPLITS}/weak_train.parquet cannot be read as parquet",
        WEAK_OUTPUTS,
        prepare=(f"{SPLITS}/test.parquet",),
        damage=truncate(f"{SPLITS}/weak_train.parquet"),
    ),
    "truncated_labels": Case(
        no_change,
        f"{STUDENT}/metrics.json",
        f"{LABELS} cannot be read as parquet",
        (f"{STUDENT}/metrics.json", f"{STUDENT}/checkpoint"),
        prepare=(LABELS,),
        damage=truncate(LABELS),
    ),
    # The weights are the job's largest file (~200 KB at hidden size 64): with the splits and base model made, a
    # 64 KiB file size limit lets the job start and log, and fails its first write of weights, as a full disk would.
    "disk_full": Case(
        set_in("models.weakling.build.hidden_size", 64),
        f"{WEAK}/metrics.json",
        "w2s error: out of disk space while writing this job's outputs (",
        WEAK_OUTPUTS,
        prepare=(f"{SPLITS}/test.parquet", "results/base_models/weakling"),
        file_size_limit=64 << 10,
    ),
}

CASES = {
    f"{kind}-{name}": case
    for kind, table in (("config", CONFIG), ("data", DATA), ("model", MODEL), ("fault", FAULTS))
    for name, case in table.items()
}


def run_with_limit(workdir: Path, target: str, file_size_limit: int | None):
    if file_size_limit is None:
        return snakemake(workdir, "--cores", "1", target, check=False)
    # Python ignores SIGXFSZ, so a write past the limit fails with "File too large", as ENOSPC would fail it
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, hard))
    try:
        return snakemake(workdir, "--cores", "1", target, check=False)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_fault_ends_in_its_sentence_and_leaves_no_output(tmp_path, case):
    config = tiny_config()
    case.change(tmp_path, config)
    append = config.pop("_append", "")
    write_config(tmp_path, config)
    with open(tmp_path / "config.yaml", "a") as handle:
        handle.write(append)
    if case.prepare:
        snakemake(tmp_path, "--cores", "1", *case.prepare)
    if case.damage:
        case.damage(tmp_path)

    result = run_with_limit(tmp_path, case.target, case.file_size_limit)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert case.message.format(workdir=tmp_path) in output, output
    assert "Traceback" not in output or case.message.startswith("Missing input"), output
    left = [path for path in case.absent if (tmp_path / path).exists()]
    assert not left, f"the failed run left {left}"
    half_written = [p for p in tmp_path.rglob("*") if HALF_WRITTEN.search(p.name)]
    assert not half_written, f"half-written files left: {half_written}"
