"""Nothing stale, nothing silent: results follow their inputs, and faults end in one clear sentence with no partial
output left behind. Each test reproduces a way the workflow once went wrong."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
import yaml
from snakemake_helpers import (
    LOCAL_ENV,
    REPO,
    REPORTING,
    SNAKEMAKE,
    job_training_params,
    planned_jobs,
    snakemake,
    tiny_config,
    train_settings,
    write_config,
)

from w2s.data.sources import LocalFileSource
from w2s.errors import W2SError
from w2s.io import atomic_path, write_parquet
from w2s.jobs.finetune import run_fingerprint
from w2s.models.build import build_model
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.tokens import encode
from w2s.pipeline import rule_io
from w2s.pipeline.config import validate_config
from w2s.process.job import sole_writer
from w2s.records.predictions import (
    check_provenance,
    merge_label_shards,
    prediction_table,
    read_split,
)
from w2s.training.loop import train
from w2s.training.losses import XentLoss
from w2s.training.resume import load_agreed_state, save_state, write_part
from w2s.training.settings import Diverged

# --- provenance: a result's identity covers everything it depends on ------------------------------------------------


def test_resume_state_does_not_survive_a_rebuilt_base_model(tmp_path):
    """A student killed mid-training must not resume from its saved state once the base model it started from was
    rebuilt (another build seed, pretraining setting, or edited local files): the fingerprint covers the model's
    contents, not just its path."""
    base = tmp_path / "base"
    build_model(base, "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=0)
    params = job_training_params(base, max_length=16, lr=1e-3)
    train_file = tmp_path / "train.parquet"
    pl.DataFrame({"id": ["a"], "text": ["x"], "label": [1]}).write_parquet(train_file)
    before = run_fingerprint(params, {"type": "xent"}, "label", None, {"train": train_file})
    assert run_fingerprint(params, {"type": "xent"}, "label", None, {"train": train_file}) == before
    build_model(base, "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=1)
    assert run_fingerprint(params, {"type": "xent"}, "label", None, {"train": train_file}) != before


def test_resume_state_does_not_survive_other_evaluation_files_or_early_stopping(tmp_path):
    """A run's history holds evaluations on the test and validation splits: a run restarted after n_test,
    n_validation or early_stopping changed (its training file byte for byte the same) must start afresh."""
    base = build_model(
        tmp_path / "base", "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=0
    )
    params = job_training_params(base, max_length=16, lr=1e-3)
    files = {name: tmp_path / f"{name}.parquet" for name in ("train", "test", "validation")}
    for name, path in files.items():
        pl.DataFrame({"id": [name], "text": ["x"], "label": [1]}).write_parquet(path)

    def fingerprint(early_stopping="weak_val", **paths):
        return run_fingerprint(
            params, {"type": "xent"}, "label", early_stopping, {**files, **paths}
        )

    before = fingerprint()
    assert fingerprint() == before
    other_test = tmp_path / "other_test.parquet"
    pl.DataFrame({"id": ["test", "more"], "text": ["x", "y"], "label": [1, 0]}).write_parquet(
        other_test
    )
    assert fingerprint(test=other_test) != before  # n_test changed: other evaluations
    assert fingerprint(validation=files["train"]) != before  # n_validation changed
    assert fingerprint("oracle") != before
    without_validation = run_fingerprint(
        params,
        {"type": "xent"},
        "label",
        "oracle",
        {"train": files["train"], "test": files["test"]},
    )
    assert without_validation not in (before, fingerprint("oracle"))


@pytest.mark.workflow
def test_editing_a_local_dataset_file_reruns_its_splits(tmp_path):
    """The split job reads the CSV: it is the job's input, so changing it reruns the splits (and what follows)."""
    data = tmp_path / "data.csv"
    pl.DataFrame(
        {"text": [f"row {i}" for i in range(80)], "label": [i % 2 for i in range(80)]}
    ).write_csv(data)
    config = tiny_config(
        datasets={
            "mine": {
                "kind": "local",
                "options": {"path": str(data)},
                "n_weak_train": 20,
                "n_strong_train": 20,
                "n_test": 20,
            }
        }
    )
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "1", "results/data/mine/seed0/test.parquet")
    assert planned_jobs(tmp_path).get("split_dataset") is None  # the splits are up to date
    flipped = pl.read_csv(data).with_columns(1 - pl.col("label"))
    flipped.write_csv(data)
    assert planned_jobs(tmp_path)["split_dataset"] == 1


def test_every_file_of_local_model_and_dataset_directories_is_an_input(tmp_path):
    model = build_model(
        tmp_path / "lm", "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=0
    )
    (model / ".cache").mkdir()
    (model / ".cache" / "lock").write_text("")
    config = tiny_config()
    config["models"]["local"] = {"path": str(model)}
    config["datasets"]["hub_copy"] = {"kind": "sciq", "options": {"source": str(tmp_path / "lm")}}
    config["datasets"]["files"] = {
        "kind": "boolq",
        "options": {"data_files": ["a.jsonl", "b.jsonl"]},
    }
    files = sorted(str(p) for p in model.iterdir() if p.is_file())
    assert rule_io.base_model_inputs(config, "local") == files and "config.json" in " ".join(files)
    assert rule_io.dataset_inputs(config, "hub_copy") == files  # hidden folders are left out
    assert rule_io.dataset_inputs(config, "files") == ["a.jsonl", "b.jsonl"]
    assert rule_io.base_model_inputs(config, "weakling") == ["results/base_models/weakling"]


# --- divergence: a NaN is an error, never a result -----------------------------------------------------------------


def test_a_diverging_run_stops_with_the_step_and_the_learning_rate(tiny_gpt2):
    tokenizer = load_tokenizer(str(tiny_gpt2))
    model = Classifier.load(str(tiny_gpt2), head_init="random")
    ids, _ = encode(["good", "bad", "fine", "awful"] * 4, tokenizer, 16)
    settings = train_settings(lr=1e30, batch_size=4, minibatch_size=4, epochs=2, autocast="off")
    with pytest.raises(
        Diverged,
        # the configured peak, not only the schedule's value at that step (0 at a warmup's start)
        match=r"the loss is (nan|inf) at step \d+ of 8 \(learning rate .* peak lr 1e\+30\); lower the learning",
    ):
        train(
            copy.deepcopy(model),
            ids,
            torch.tensor([1.0, 0.0] * 8),
            XentLoss(),
            settings,
            tokenizer.pad_token_id,
        )


def test_a_diverging_generative_finetuning_names_the_step_and_the_peak_learning_rate(
    tiny_gpt2, tmp_path
):
    from w2s.training.generative import generative_finetune

    split = tmp_path / "train.parquet"
    write_parquet(pl.DataFrame({"id": ["a", "b"], "text": ["good day", "bad day"]}), split)
    with pytest.raises(W2SError, match=r"diverged: .* at step \d+ of 3 \(.* peak 1e\+30\)"):
        generative_finetune(tmp_path / "out", str(tiny_gpt2), [split], 3, 1e30, 2, 16, 0)
    assert not (tmp_path / "out").exists()


def test_non_finite_predictions_are_an_error_not_a_table():
    frame = pl.DataFrame({"id": ["a", "b"], "text": ["x", "y"], "label": [1, 0]})
    with pytest.raises(W2SError, match="1 of 2 predictions are not finite"):
        prediction_table(frame, np.array([0.3, np.nan]))


# --- config: every mistake named at start, before any job runs ----------------------------------------------------


def test_a_duplicate_model_key_is_an_error_naming_file_and_lines(tmp_path):
    """YAML keeps the second of two equal keys: one model would silently replace the other."""
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(tiny_config(), sort_keys=False).replace(
            "  strongling:",
            "  weakling:\n    build: {arch: gpt2, hidden_size: 4, num_layers: 1, num_heads: 1}\n"
            "  strongling:",
            1,
        )
    )
    result = snakemake(tmp_path, "--dry-run", "--cores", "1", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"config file {config}: key 'weakling' appears twice in one mapping, at lines" in output
    assert "Traceback" not in output


def world_dataset(options: dict):
    """A config change: dataset toy asks a declared world with `options`."""

    def change(config: dict) -> None:
        config["worlds"] = {"kb": {"n_entities": 60}}
        config["datasets"]["toy"] = {
            "kind": "world",
            "options": options,
            "n_weak_train": 8,
            "n_strong_train": 8,
            "n_test": 8,
        }

    return change


def set_in(path: str, value):
    """A config change: set the value at a dotted key path (creating nothing: the path must exist but its last key)."""

    def change(config: dict) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        node[last] = value

    return change


# Config faults, each with the start of the one sentence it must produce; all are found before any job runs.
CONFIG_FAULTS = {
    "unknown_key": (
        set_in("models.weakling.lrr", 1e-3),
        "config key models.weakling: Additional properties",
    ),
    "wrong_type": (
        set_in("models.strongling.lr", "fast"),
        "config key models.strongling.lr: 'fast' is not of type",
    ),
    "zero_epochs": (
        set_in("training.epochs", 0),
        "config key training.epochs: 0 is less than the minimum of 1",
    ),
    "float_integer": (
        set_in("datasets.toy.n_test", 32.0),
        "config key datasets.toy.n_test: 32.0 is not of type 'integer'",
    ),
    "float_seed": (set_in("seeds", [0.0]), "config key seeds.0: 0.0 is not of type 'integer'"),
    "duplicate_seeds": (
        set_in("seeds", [0, 0]),
        "config key seeds: [0, 0] has non-unique elements",
    ),
    "nan_lr": (
        set_in("models.weakling.lr", float("nan")),
        "config key models.weakling.lr: nan is not a finite",
    ),
    "inf_lr": (
        set_in("models.weakling.lr", float("inf")),
        "config key models.weakling.lr: inf is not a finite",
    ),
    "xent_parameter": (
        set_in("losses.plain", {"type": "xent", "alpha_max": 0.5}),
        "config key losses.plain: loss type 'xent' takes no parameter 'alpha_max' (it takes ['ground_truth'])",
    ),
    "product_parameter": (
        set_in("losses.prod", {"type": "product", "warmup_frac": 0.1}),
        "config key losses.prod: loss type 'product' takes no parameter 'warmup_frac' (it takes "
        "['alpha', 'beta', 'ground_truth'])",
    ),
    "unknown_loss": (
        set_in("losses.mine", {"type": "hinge"}),
        "config key losses.mine.type: 'hinge' is not one of",
    ),
    "unknown_schedule": (
        set_in("losses.logconf.alpha_schedule", "cosine"),
        "config key losses.logconf.alpha_schedule: 'cosine' is not one of",
    ),
    "undeclared_pair_model": (
        set_in("pairs", [{"weak": "weakling", "strong": "giant"}]),
        "config key pairs.0.strong: model 'giant' is not declared under models",
    ),
    "repeated_pair": (
        set_in("pairs", [{"weak": "weakling", "strong": "strongling"}] * 2),
        "config key pairs.1: repeats pairs.0 (weakling -> strongling)",
    ),
    "missing_model_path": (
        set_in("models.weakling", {"path": "./models/not-there"}),
        "config key models.weakling.path: './models/not-there' is not a directory",
    ),
    "no_model_source": (
        set_in("models.weakling", {"lr": 1e-3}),
        "config key models.weakling: give exactly one of 'path', 'build', 'pretrain'",
    ),
    "minibatch_above_batch": (
        set_in("models.weakling.minibatch_size", 64),
        "config key models.weakling.minibatch_size: 64 exceeds batch_size 16",
    ),
    "readout_without_tokens": (
        set_in("models.weakling.head_init", "readout"),
        "config key models.weakling.head_init: readout needs label_tokens",
    ),
    "undeclared_world": (
        set_in("datasets.toy", {"kind": "world", "options": {"world": "nowhere"}}),
        "config key datasets.toy.options.world: 'nowhere' is not declared under worlds",
    ),
    "one_model_for_all_pairs": (
        set_in("models", {"weakling": tiny_config()["models"]["weakling"]}),
        "config key pairs: 'all' needs at least two models",
    ),
    "label_shards_beyond_rows": (
        set_in("labelling", {"shards": 49}),
        "config key labelling.shards: 49 shards of dataset toy's 48 strong_train",
    ),
    "test_shards_beyond_rows": (
        set_in("labelling", {"test_shards": 33}),
        "config key labelling.test_shards: 33 shards of dataset toy's 32 test rows",
    ),
    "unknown_dropout": (
        set_in("training.dropout", "on"),
        "config key training.dropout: 'on' is not one of",
    ),
    # a misspelt option of any kind: ignored, it ran the classification task or read the hub, not the user's file
    "world_option_misspelt": (
        world_dataset({"world": "kb", "fromat": "question"}),
        "config key datasets.toy.options: unknown option(s) ['fromat'] for kind world; it takes ['world', "
        "'format', 'separator', 'values_as']",
    ),
    "world_given_a_chess_option": (
        world_dataset({"world": "kb", "accept_any_mate": True}),
        "config key datasets.toy.options: unknown option(s) ['accept_any_mate'] for kind world",
    ),
    # a key of another world type: the world was made without it
    "knowledge_base_given_a_folk_facts_key": (
        set_in("worlds", {"kb": {"n_entities": 60, "folk_share": 0.5}}),
        "config key worlds.kb.folk_share: only a folk_facts world has it (this one is knowledge_base)",
    ),
    "folk_facts_given_a_chess_key": (
        set_in("worlds", {"ff": {"type": "folk_facts", "depth": 4}}),
        "config key worlds.ff.depth: only a chess world has it (this one is folk_facts)",
    ),
    "hub_task_option_misspelt": (
        set_in("datasets.toy", {"kind": "sciq", "options": {"data_file": "mine.jsonl"}}),
        "config key datasets.toy.options: unknown option(s) ['data_file'] for kind sciq; it takes ['source', "
        "'subset', 'revision', 'data_dir', 'splits', 'data_files', 'format']",
    ),
    "synthetic_option_misspelt": (
        set_in("datasets.toy.options", {"n_row": 100}),
        "config key datasets.toy.options: unknown option(s) ['n_row'] for kind synthetic; it takes ['n_rows', ",
    ),
    "local_option_misspelt": (
        set_in("datasets.toy", {"kind": "local", "options": {"path": "x.jsonl", "text_col": "t"}}),
        "config key datasets.toy.options: unknown option(s) ['text_col'] for kind local; it takes ['path', "
        "'text_column', 'label_column']",
    ),
}


@pytest.mark.parametrize(("change", "message"), CONFIG_FAULTS.values(), ids=CONFIG_FAULTS.keys())
def test_config_faults_are_one_sentence_at_start(change, message):
    config = tiny_config()
    change(config)
    with pytest.raises(W2SError) as error:
        validate_config(config)
    assert str(error.value).startswith(message)


# --- intermediates: a damaged file is named, with what to do ------------------------------------------------------


def test_a_truncated_labels_file_is_named_with_what_to_do(tmp_path):
    path = tmp_path / "weakling.parquet"
    pl.DataFrame(
        {"id": ["a", "b"], "text": ["x", "y"], "label": [1, 0], "soft_label": [0.9, 0.2]}
    ).write_parquet(path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(
        W2SError, match=rf"{path} cannot be read as parquet .*delete it and rerun snakemake"
    ):
        read_split(path, "soft_label")


@pytest.mark.parametrize(
    ("soft", "row"), [([0.9, float("nan"), 0.1], 1), ([0.9, 0.2, 1.5], 2), ([None, 0.2, 0.3], 0)]
)
def test_soft_labels_that_are_not_probabilities_are_named_by_row(tmp_path, soft, row):
    path = tmp_path / "labels.parquet"
    pl.DataFrame(
        {"id": ["a", "b", "c"], "text": ["x", "y", "z"], "soft_label": soft}
    ).write_parquet(path)
    with pytest.raises(
        W2SError,
        match=rf"{path}: 1 rows have a 'soft_label' that is not a number in \[0, 1\] "
        rf"\(row {row}",
    ):
        read_split(path, "soft_label")


def test_a_damaged_resume_state_is_set_aside_and_training_starts_over(tmp_path, capsys):
    state = tmp_path / "resume"
    save_state(state, 3, {"step": 3, "model": {"w": torch.ones(4)}}, {"rng": {"x": torch.zeros(2)}})
    shared = state / "step3" / "shared.safetensors"
    shared.write_bytes(shared.read_bytes()[:10])
    assert load_agreed_state(state) is None
    assert not state.exists() and (tmp_path / "resume.damaged" / "step3").is_dir()
    assert "cannot be read" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["tied head", "untied head", "lora"])
def test_a_resume_state_of_every_model_kind_saves_and_restores_its_weights(tmp_path, kind):
    """A causal LM whose output layer is its embedding (GPT-2: the generated-answer runs' model) once failed its first
    save ("Some tensors share memory"); GPT-NeoX's is its own; LoRA's state holds adapters and head. Each saved after
    an Adam step, then restored into a fresh copy: the same weights and optimizer state, bit for bit."""
    from w2s.data.tokenizers import byte_tokenizer
    from w2s.models.answerer import Answerer
    from w2s.models.build import random_model
    from w2s.training.loop import LocalEngine
    from w2s.training.resume import Resumable

    def made():
        arch = "gpt_neox" if kind == "untied head" else "gpt2"
        model = Answerer(random_model(arch, 16, 1, 2, 32, byte_tokenizer(), seed=3))
        if kind == "lora":
            model.add_lora({"r": 2, "alpha": 4, "dropout": 0.0}, "base")
        return model

    settings = train_settings(lr=1e-2, checkpoint_every=1)
    model = made()
    tied = model.backbone.lm_head.weight is model.backbone.get_input_embeddings().weight
    assert tied == (kind != "untied head")
    engine = LocalEngine(model, settings, 4)
    ids = torch.randint(3, 200, (2, 10))
    model.backbone(input_ids=ids, labels=ids).loss.backward()
    engine.step()
    resumable = Resumable(tmp_path / "resume", "run")
    resumable.save(engine, 1, [{"step": 1}])
    fresh = made()
    restored, step, history = resumable.start(fresh, settings, 4, LocalEngine)
    assert (step, history) == (1, [{"step": 1}])
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    moments = [s["exp_avg"] for s in engine.optimizer.state.values()]
    restored_moments = [s["exp_avg"] for s in restored.optimizer.state.values()]
    assert moments and all(
        torch.equal(a, b) for a, b in zip(moments, restored_moments, strict=True)
    )


def load_on_two_ranks(rank: int, state: Path, store: Path, results: Path) -> None:
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=2
    )
    saved = load_agreed_state(state, rank)
    (results / f"rank{rank}").write_text("resumed" if saved else "from scratch")
    torch.distributed.destroy_process_group()


@pytest.mark.workflow
@pytest.mark.parametrize("damaged_rank", [0, 1])
def test_a_resume_state_damaged_on_one_rank_is_set_aside_by_all(tmp_path, damaged_rank):
    """Rank 1's part of a two-process state is truncated (or rank 0's): both processes must start over together;
    one resuming while the other starts from scratch would train two different models, or hang in a collective."""
    state = tmp_path / "resume"
    save_state(state, 5, {"step": 5}, {"rng": {"x": torch.zeros(2)}})
    write_part(
        state / "step5", "rank1", {"rng": {"x": torch.ones(2)}}
    )  # as rank 1 of a two-process run writes it
    part = state / "step5" / f"rank{damaged_rank}.safetensors"
    part.write_bytes(part.read_bytes()[:12])
    torch.multiprocessing.spawn(
        load_on_two_ranks, args=(state, tmp_path / "store", tmp_path), nprocs=2
    )
    assert [(tmp_path / f"rank{r}").read_text() for r in (0, 1)] == ["from scratch", "from scratch"]
    assert not state.exists() and (tmp_path / "resume.damaged" / "step5").is_dir()


# --- processes: one writer per run, and no job outlives its Snakemake ---------------------------------------------


def test_a_second_writer_of_a_run_fails_at_once_naming_the_first(tmp_path):
    with sole_writer(tmp_path / "run"):
        with pytest.raises(
            W2SError, match=rf"{tmp_path / 'run'} is being written by another process \(pid "
        ):
            with sole_writer(tmp_path / "run"):
                pass
    with sole_writer(tmp_path / "run"):  # released when the first writer is done
        pass


def test_writing_an_output_folder_over_a_finished_twin_replaces_it(tmp_path):
    """A rerun that raced a still-running job used to fail at the rename ("Directory not empty")."""
    (tmp_path / "checkpoint").mkdir()
    (tmp_path / "checkpoint" / "old.bin").write_text("old")
    with atomic_path(tmp_path / "checkpoint") as tmp:
        tmp.mkdir()
        (tmp / "new.bin").write_text("new")
    assert [p.name for p in (tmp_path / "checkpoint").iterdir()] == ["new.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]


def test_a_job_stops_when_its_snakemake_is_killed(tmp_path):
    """A stand-in for Snakemake starts a job that would run for a minute, and is killed with SIGKILL: the job must
    not outlive it."""
    job = "from w2s.process.job import stop_when_orphaned; import time; stop_when_orphaned(0.1); time.sleep(60)"
    parent = (
        "import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', sys.argv[1]]); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    snakemake_stand_in = subprocess.Popen(
        [sys.executable, "-c", parent, job], stdout=subprocess.PIPE, text=True
    )
    child = int(snakemake_stand_in.stdout.readline())
    time.sleep(1.0)
    assert process_alive(child)
    snakemake_stand_in.kill()
    snakemake_stand_in.wait()
    deadline = time.time() + 10
    while process_alive(child) and time.time() < deadline:
        time.sleep(0.1)
    assert not process_alive(child)


def process_alive(pid: int) -> bool:
    """Running, not a zombie (a reparented child that exited waits for init to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.workflow
def test_damaged_labels_and_deleted_runs_are_never_left_under_an_old_summary(tmp_path):
    """Truncate the weak labels: the students fail naming the file and what to do; Snakemake must then still plan
    them (it used to say all was up to date, with the old numbers in runs.csv). Deleting the file as told, or a
    student's folder, gets everything made again."""
    write_config(tmp_path, tiny_config(losses={"xent": {"type": "xent"}}))
    snakemake(tmp_path, "--cores", "2")
    labels = tmp_path / "results/labels/toy/seed0/weakling.parquet"
    labels.write_bytes(labels.read_bytes()[:100])
    failed = snakemake(tmp_path, "--cores", "2", check=False)
    assert failed.returncode != 0
    assert (
        f"w2s error: {labels.relative_to(tmp_path)} cannot be read as parquet"
        in failed.stdout + failed.stderr
    )
    assert planned_jobs(tmp_path)["train_student"] == 1
    labels.unlink()
    snakemake(tmp_path, "--cores", "2")
    assert pl.read_csv(tmp_path / "results/summary/runs.csv").height == 1
    student = tmp_path / "results/student/toy/seed0/weakling/strongling/xent"
    shutil.rmtree(student)
    assert planned_jobs(tmp_path) == {"train_student": 1, **REPORTING}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [([0.0, 1.0, 1.0, 0.0], [0, 1, 1, 0]), (["false", "TRUE", "1", "0.0"], [0, 1, 1, 0])],
)
def test_unambiguous_label_spellings_are_accepted(tmp_path, labels, expected):
    path = tmp_path / "data.jsonl"
    pl.DataFrame({"text": ["a", "b", "c", "d"], "label": labels}).write_ndjson(path)
    assert LocalFileSource(path).labels == expected


@pytest.mark.parametrize(
    ("labels", "row"), [([0.0, 1.0, float("nan"), 0.0], 2), ([0, 1, 2, 0], 2), ([1, None, 0, 1], 1)]
)
def test_a_bad_label_is_reported_at_its_row(tmp_path, labels, row):
    path = tmp_path / "data.jsonl"
    pl.DataFrame({"text": ["a", "b", "c", "d"], "label": labels}).write_ndjson(path)
    with pytest.raises(
        W2SError, match=rf"{path}: column 'label' must hold labels 0 or 1; row {row} has"
    ):
        LocalFileSource(path)


def test_empty_texts_are_named(tmp_path):
    path = tmp_path / "data.csv"
    pl.DataFrame({"text": ["a", " ", "", "d"], "label": [0, 1, 0, 1]}).write_csv(path)
    with pytest.raises(
        W2SError, match=rf"{path}: column 'text' is empty in 2 rows \(first: row 1\)"
    ):
        LocalFileSource(path)


def test_a_model_directory_without_config_json_is_named_at_start(tmp_path):
    (tmp_path / "empty_model").mkdir()
    config = tiny_config()
    config["models"]["weakling"] = {"path": str(tmp_path / "empty_model")}
    with pytest.raises(
        W2SError, match=r"config key models.weakling.path: .*empty_model' has no config.json"
    ):
        validate_config(config)


def test_a_hub_id_that_is_neither_cached_nor_reachable_fails_at_once(tmp_path):
    """Offline, loading an uncached hub id used to retry for about a minute and end in a traceback. (The hub's
    address is a closed local port, so the test is offline on any machine.)"""
    code = "from w2s.models.classifier import Classifier; Classifier.load('someone/missing-model')"
    env = {
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "HF_HUB_CACHE": str(tmp_path / "cache"),
        "PATH": "/usr/bin:/bin",
    }
    start = time.time()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert (
        f"model someone/missing-model at revision main is not in the Hugging Face cache {tmp_path / 'cache'} and "
        "the hub cannot be reached from here: run `w2s fetch <config>`"
    ) in result.stderr
    assert time.time() - start < 20  # most of it the imports


def test_a_labels_file_from_another_run_is_refused(tmp_path):
    """The student checks the labels' own provenance: a file copied over from another seed's run is named."""
    path = tmp_path / "weakling.parquet"
    frame = pl.DataFrame({"id": ["a"], "text": ["x"], "label": [1], "soft_label": [0.8]})
    write_parquet(
        frame,
        path,
        {"dataset": "toy", "seed": 1, "weak_model": "weakling", "split": "strong_train"},
    )
    expected = {"dataset": "toy", "seed": 0, "weak_model": "weakling", "split": "strong_train"}
    with pytest.raises(
        W2SError,
        match=rf"{path} is not the labels file this run needs: it records seed '1' where "
        "'0' was expected",
    ):
        check_provenance(path, expected)
    check_provenance(path, {**expected, "seed": 1})


def test_a_model_directory_without_a_tokenizer_is_named(tmp_path):
    model = build_model(
        tmp_path / "lm", "gpt2", hidden_size=8, num_layers=1, num_heads=2, max_position=32, seed=0
    )
    for file in model.iterdir():
        if file.name.startswith(("tokenizer", "special_tokens")):
            file.unlink()
    with pytest.raises(W2SError, match=rf"could not load the tokenizer of model '{model}'"):
        load_tokenizer(str(model))


@pytest.mark.workflow
@pytest.mark.parametrize("warm", ["1", "0"], ids=["warm_worker", "own_process"])
def test_killing_snakemake_alone_stops_its_training_job(tmp_path, warm):
    """SIGKILL to Snakemake's own pid (not its process group): the training job it started used to train on and race
    the rerun. It must stop, free its run folder, and the rerun must finish the run."""
    from test_resume import CEILING, long_ceiling_config

    config = long_ceiling_config(None)
    config["training"].update(
        epochs=30, checkpoint_every=40
    )  # 960 steps: far longer than the job needs to stop
    write_config(tmp_path, config)
    command = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(tmp_path),
        "--configfile",
        str(tmp_path / "config.yaml"),
        "--cores",
        "1",
        f"{CEILING}/metrics.json",
    ]
    env = {**LOCAL_ENV, "W2S_WARM_START": warm, "W2S_WARM_DIR": str(tmp_path / "warm")}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    latest = tmp_path / CEILING / "resume/latest"
    deadline = time.monotonic() + 300
    while not latest.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.wait()
    assert latest.exists(), "the run ended before it saved a resumable state"
    log = tmp_path / "logs/ceiling/toy/seed0/strongling.log"
    time.sleep(2)  # the job notices within a second that its Snakemake is gone
    seen = latest.read_text(), log.stat().st_size
    time.sleep(2)
    assert (latest.read_text(), log.stat().st_size) == seen, (
        "the job trains on without its Snakemake"
    )
    with sole_writer(tmp_path / CEILING):  # nobody holds the run folder any more
        pass
    snakemake(tmp_path, "--unlock", env=env)
    snakemake(tmp_path, "--cores", "1", "--rerun-incomplete", f"{CEILING}/metrics.json", env=env)
    assert "resumed from step" in log.read_text()


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ([(0, 3, 3), (3, 6, 3)], None),
        ([(0, 3, 3), (4, 6, 2)], "holds rows 4-6 (2 rows) where rows from 3 were expected"),
        ([(0, 3, 2), (3, 6, 3)], "holds rows 0-3 (2 rows) where rows from 0 were expected"),
        ([(0, 3, 3), (3, 5, 2)], "stop at row 5 of 6"),
    ],
    ids=["whole", "gap", "short_shard", "short_of_the_end"],
)
def test_label_shards_must_cover_the_split_exactly(tmp_path, ranges, message):
    """Each shard records its rows of the split; the merge checks that they tile it. Cases: (start, stop, rows held)."""
    paths = []
    for i, (start, stop, rows) in enumerate(ranges):
        frame = pl.DataFrame(
            {
                "id": [f"r{start + k}" for k in range(rows)],
                "text": ["x"] * rows,
                "label": [1] * rows,
                "soft_label": [0.7] * rows,
            }
        )
        paths.append(tmp_path / f"{i}.parquet")
        write_parquet(
            frame,
            paths[-1],
            {
                "checkpoint_sha256": "same",
                "n_truncated": 0,
                "row_start": start,
                "row_stop": stop,
                "split_rows": 6,
            },
        )
    if message is None:
        assert merge_label_shards(paths, tmp_path / "merged.parquet").height == 6
        assert "row_start" not in pl.read_parquet_metadata(tmp_path / "merged.parquet")
    else:
        with pytest.raises(W2SError, match=re.escape(message)):
            merge_label_shards(paths, tmp_path / "merged.parquet")
        assert not (tmp_path / "merged.parquet").exists()
