"""Reward models end to end: a grid of the world's preferences run by real Snakemake (weak labels in shards that are
the weak reward model's soft preferences, students on them, a LoRA strong model, a generatively finetuned one with
its adjusted ceiling, a chain, weak_val early stopping, zero-shot rewards, the summary); and the training job under
DeepSpeed ZeRO-3 in two processes, and with LoRA, against the plain path."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
import torch
from snakemake_helpers import LOCAL_ENV, finetune_directly, snakemake, write_config
from tolerance import assert_predictions_close

from w2s.data.splits import sample_splits
from w2s.data.world import generate_world
from w2s.data.world_sources import WorldPreferenceSource
from w2s.models.classifier import load_tokenizer
from w2s.models.lora import is_adapter_checkpoint
from w2s.models.reward import RewardModel
from w2s.models.tokens import batch_rows, encode_split, pad_batch
from w2s.records.predictions import PREDICTION_COLUMNS

pytestmark = pytest.mark.workflow

PRETRAIN = {"world": "kb", "arch": "gpt2", "num_layers": 1, "num_heads": 2, "batch_size": 64}
LORA = {"r": 4, "alpha": 8, "dropout": 0.0}


def preference_grid() -> dict:
    model = {"lr": 3e-3, "batch_size": 10, "minibatch_size": 10, "max_length": 8}
    return {
        "seeds": [0],
        "worlds": {"kb": {"n_entities": 160, "digits": 1, "seed": 2, "corpus_lines": 3000}},
        "datasets": {
            "kbp": {
                "kind": "world",
                "options": {"world": "kb", "format": "preference"},
                "n_weak_train": 30,
                "n_strong_train": 30,
                "n_test": 30,
                "n_validation": 20,
            }
        },
        "models": {
            "small": {"pretrain": {**PRETRAIN, "hidden_size": 8, "steps": 30}, **model},
            "medium": {"pretrain": {**PRETRAIN, "hidden_size": 16, "steps": 40}, **model},
            "large": {"pretrain": {**PRETRAIN, "hidden_size": 16, "steps": 60}, **model},
            "large_lora": {"backbone": "large", "lora": LORA, **model},
            "large_gft": {
                "backbone": "large",
                "generative_finetune": {"steps": 4, "lr": 1e-3, "batch_size": 8},
                **model,
            },
        },
        "pairs": [
            {"weak": "small", "strong": "large"},
            {"weak": "small", "strong": "large_lora"},
            {"weak": "small", "strong": "large_gft"},
        ],
        "chains": [["small", "medium", "large"]],
        "losses": {"xent": {"type": "xent"}, "logconf": {"type": "logconf", "alpha_max": 0.5}},
        "labelling": {"shards": 2},
        "training": {"epochs": 2, "eval_every": 2, "early_stopping": "weak_val", "autocast": "off"},
        "keep_checkpoints": True,
    }


def rewards(checkpoint, frame: pl.DataFrame) -> np.ndarray:
    """p(completion a preferred) by hand: the checkpoint's reward of each transcript, one at a time."""
    model = RewardModel.load(str(checkpoint)).eval()
    tokenizer = load_tokenizer(str(checkpoint))
    pairs, _ = encode_split(frame, tokenizer, 8)
    with torch.no_grad():
        r = [
            [model.rewards(*pad_batch([row], tokenizer.pad_token_id)).item() for row in (p.a, p.b)]
            for p in pairs
        ]
    return np.array([1 / (1 + np.exp(b - a)) for a, b in r])


def test_a_reward_model_grid_runs_end_to_end(tmp_path):
    write_config(tmp_path, preference_grid())
    result = snakemake(tmp_path, "--cores", "2")
    assert (
        "label_strong_train" in result.stdout + result.stderr
    )  # the weak labels came from shard jobs
    results = tmp_path / "results"
    data = results / "data/kbp/seed0"
    strong_train = pl.read_parquet(data / "strong_train.parquet")
    assert strong_train.columns == ["id", "text", "completion_a", "completion_b", "label", "group"]

    # the weak labels are the weak reward model's soft preferences, sigmoid(r_a - r_b), kept beside the pairs
    labels = pl.read_parquet(results / "labels/kbp/seed0/small.parquet")
    assert labels.columns[:4] == ["id", "text", "completion_a", "completion_b"]
    assert set(PREDICTION_COLUMNS) <= set(labels.columns)
    assert labels.select("id", "completion_a", "completion_b").equals(
        strong_train.select("id", "completion_a", "completion_b")
    )
    by_hand = rewards(results / "weak/kbp/seed0/small/checkpoint", strong_train)
    assert labels["soft_label"].to_numpy() == pytest.approx(by_hand, abs=1e-5)
    assert labels["soft_label"].std() > 0  # soft preferences, not one constant

    # each run's accuracy is its pairwise accuracy on the test comparisons
    folders = {
        "weak": "weak/kbp/seed0/small",
        "ceiling": "ceiling/kbp/seed0/large",
        "student": "student/kbp/seed0/small/large/logconf",
        "lora": "student/kbp/seed0/small/large_lora/xent",
        "gft_ceiling": "ceiling/kbp/seed0/large_gft",
        "gft_student": "student/kbp/seed0/small/large_gft/xent",
        "chain": "chain/kbp/seed0/small+medium+large/xent/large",
        "zero_shot": "zero_shot/kbp/seed0/large",
    }
    test = pl.read_parquet(data / "test.parquet")
    accuracy = {}
    for name, folder in folders.items():
        metrics = json.loads((results / folder / "metrics.json").read_text())
        accuracy[name] = metrics["accuracy"]
        predictions = pl.read_parquet(results / folder / "test_predictions.parquet")
        assert predictions["id"].to_list() == test["id"].to_list(), name
        assert metrics["n"] == 30 and metrics["accuracy"] == pytest.approx(
            ((predictions["soft_label"] > 0.5) == (predictions["label"] == 1)).mean()
        ), name
    # the ceiling's checkpoint is a reward model's, and scores the test pairs as its predictions say
    ceiling = results / folders["ceiling"]
    own = pl.read_parquet(ceiling / "test_predictions.parquet")["soft_label"].to_numpy()
    assert own == pytest.approx(rewards(ceiling / "checkpoint", test), abs=1e-5)
    assert is_adapter_checkpoint(results / folders["lora"] / "checkpoint")
    # the generatively finetuned model's runs start from the model finetuned on both transcripts of every pair
    log = (tmp_path / "logs/generative/kbp/seed0/large_gft.log").read_text()
    assert "on 120 texts of 2 splits" in log  # 30 + 30 pairs, two transcripts each

    runs = pl.read_parquet(results / "summary/runs.parquet")
    gft = runs.filter(
        (pl.col("strong") == "large_gft")
        & (pl.col("loss") == "xent")
        & (pl.col("early_stopping") == "none")
    )
    ceiling_gft = json.loads((results / folders["gft_ceiling"] / "metrics.json").read_text())
    assert gft["ceiling_acc"].to_list() == [ceiling_gft["accuracy"]]  # the adjusted ceiling
    assert gft["generative"].to_list() == [True]
    assert runs["pgr"].is_not_null().sum() >= 6
    stops = json.loads((results / folders["student"] / "early_stopping.json").read_text())
    assert {s["early_stopping"] for s in stops} >= {"weak_val"}

    # the analyses read a reward model's predictions as a classifier's: each test predictions file's pairwise
    # accuracy in the calibration table, and every student's agreement with its weak reward model
    calibration = pl.read_parquet(results / "analysis/calibration.parquet")
    for role, model in (("weak", "small"), ("ceiling", "large")):
        row = calibration.filter((pl.col("role") == role) & (pl.col("model") == model))
        assert row["accuracy"].to_list() == [pytest.approx(accuracy[role])], role
    agreement = pl.read_parquet(results / "analysis/agreement.parquet")
    students = agreement.filter(pl.col("role") == "student")
    assert set(students["strong"]) >= {"large", "large_lora", "large_gft"}
    assert students["dataset"].unique().to_list() == ["kbp"]


def test_a_model_without_label_tokens_scores_a_comparison_by_its_completions_likelihood(tmp_path):
    """On a comparison task every model of a pair has a zero-shot score: a world-pretrained model its label tokens'
    reward, a built one (no label tokens) the likelihood comparison of the two completions
    (w2s.models.likelihood), which its zero-shot predictions equal."""
    from w2s.models.likelihood import LikelihoodPreference
    from w2s.training.predict import predict_p1

    config = preference_grid()
    built = {"build": {"arch": "gpt2", "hidden_size": 16, "num_layers": 1, "num_heads": 2}}
    config["models"] = {"small": config["models"]["small"], "built": {**built, "max_length": 8}}
    config["pairs"], config["chains"] = [{"weak": "small", "strong": "built"}], []
    config["few_shot"] = {"k": 2, "labels": ["truth"], "separator": "|"}
    write_config(tmp_path, config)
    targets = [f"results/zero_shot/kbp/seed0/{model}/metrics.json" for model in ("small", "built")]
    few_shot = tmp_path / "results/few_shot/kbp/seed0/truth/built"
    snakemake(
        tmp_path, "--cores", "2", *targets, str(few_shot.relative_to(tmp_path) / "metrics.json")
    )
    folders = [(tmp_path / target).parent for target in targets]
    test = pl.read_parquet(tmp_path / "results/data/kbp/seed0/test.parquet")
    base = tmp_path / "results/base_models/built"
    tokenizer = load_tokenizer(str(base))
    pairs, _ = encode_split(test, tokenizer, 8)
    model = LikelihoodPreference.load(str(base), "float32", False)
    by_hand = predict_p1(model, pairs, tokenizer.pad_token_id, autocast="off")
    scored = pl.read_parquet(folders[1] / "test_predictions.parquet")["soft_label"].to_numpy()
    assert scored == pytest.approx(by_hand, abs=1e-5) and scored.std() > 0
    assert json.loads((folders[0] / "metrics.json").read_text())["n"] == 30

    # with k-shot prompts: each prefix after two of strong_train's prefixes with their preferred completions
    train = pl.read_parquet(tmp_path / "results/data/kbp/seed0/strong_train.parquet")
    shown = {
        row["id"]: row["text"] + row["completion_a" if row["label"] else "completion_b"]
        for row in train.iter_rows(named=True)
    }
    prompted = pl.read_parquet(few_shot / "test_predictions.parquet")
    prefixes = ["".join(shown[i] + "|" for i in ids) for ids in prompted["shot_ids"]]
    by_hand_test = test.with_columns(text=pl.Series(prefixes) + test["text"])
    pairs, _ = encode_split(by_hand_test, tokenizer, 3 * 8)
    by_hand = predict_p1(model, pairs, tokenizer.pad_token_id, autocast="off")
    assert prompted["soft_label"].to_numpy() == pytest.approx(by_hand, abs=1e-5)
    assert prompted["text"].to_list() == test["text"].to_list()


def test_the_split_files_record_the_rows_a_source_dropped(tmp_path):
    """Ties reach the splits' metadata through the split job (counted as `<reason>_dropped`)."""

    rows = [
        {
            "chosen": f"\n\nHuman: q{i}\n\nAssistant: good {i}",
            "rejected": f"\n\nHuman: q{i}\n\nAssistant: bad {i}",
        }
        for i in range(30)
    ] + [
        {"chosen": "\n\nHuman: t\n\nAssistant: same", "rejected": "\n\nHuman: t\n\nAssistant: same"}
    ] * 3
    path = tmp_path / "hh.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = preference_grid()
    config["datasets"] = {
        "hh": {
            "kind": "anthropic_hh_comparisons",
            "options": {"data_files": str(path)},
            "n_weak_train": 8,
            "n_strong_train": 8,
            "n_test": 8,
        }
    }
    write_config(tmp_path, config)
    snakemake(
        tmp_path,
        "--cores",
        "1",
        "--until",
        "split_dataset",
        env={**LOCAL_ENV, "HF_DATASETS_CACHE": str(tmp_path / "hf_cache")},
    )
    metadata = pl.read_parquet_metadata(tmp_path / "results/data/hh/seed0/test.parquet")
    assert metadata["ties_dropped"] == "3"


SEVERAL = {"stage": 3, "offload": False, "processes_per_node": 2, "nodes": 1}


@pytest.fixture(scope="module")
def preference_splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("preferences")
    entry = {
        "type": "knowledge_base",
        "n_entities": 200,
        "digits": 1,
        "seed": 1,
        "corpus_lines": 10,
    }
    generate_world(entry, root / "world")
    splits, _ = sample_splits(
        WorldPreferenceSource(root / "world"), "p", {"train": 44, "test": 24}, 0
    )
    for name, frame in splits.items():
        frame.write_parquet(root / f"{name}.parquet")
    return root


def train_reward_model(
    root, tiny_gpt2, name: str, deepspeed: dict | None, lora: dict | None = None
):
    # lr 3e-3: a zero head on a random backbone, 8 steps at 1e-3 barely leave p = 0.5
    out = finetune_directly(
        root,
        root / name,
        tiny_gpt2,
        lr=3e-3,
        max_length=16,
        deepspeed=deepspeed,
        lora=lora,
        pairs=True,
    )
    return pl.read_parquet(out["predictions"]), out


@pytest.mark.kernel_sensitive
def test_a_reward_model_under_zero3_in_two_processes_and_with_lora_matches_the_plain_path(
    preference_splits, tiny_gpt2
):
    plain, _ = train_reward_model(preference_splits, tiny_gpt2, "plain", None)
    zero3, out = train_reward_model(preference_splits, tiny_gpt2, "zero3", SEVERAL)
    assert zero3.columns == plain.columns and zero3["id"].equals(plain["id"])
    assert plain["soft_label"].std() > 1e-3  # it learned preferences
    assert_predictions_close(zero3, plain, 1e-5)
    # the consolidated checkpoint is a plain reward model's, and predicts what the job wrote
    test = pl.read_parquet(preference_splits / "test.parquet")
    assert rewards(out["checkpoint"], test) == pytest.approx(
        zero3["soft_label"].to_numpy(), abs=1e-5
    )

    lora, out = train_reward_model(preference_splits, tiny_gpt2, "lora", None, LORA)
    lora_zero3, _ = train_reward_model(preference_splits, tiny_gpt2, "lora_zero3", SEVERAL, LORA)
    assert is_adapter_checkpoint(out["checkpoint"])
    assert_predictions_close(lora_zero3, lora, 1e-5)
    assert rewards(out["checkpoint"], test) == pytest.approx(
        lora["soft_label"].to_numpy(), abs=1e-5
    )
    assert not np.allclose(
        lora["soft_label"], plain["soft_label"]
    )  # adapters are not the full model


def test_a_comparison_batch_holds_every_first_transcript_then_every_second():
    from w2s.models.tokens import Pair

    rows = batch_rows([Pair([1], [2, 2]), Pair([3, 3, 3], [4])])
    assert rows == [[1], [3, 3, 3], [2, 2], [4]]
