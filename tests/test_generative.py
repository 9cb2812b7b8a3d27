"""Generative finetuning: a model finetuned as a language model on a task's texts, never its labels, that its
classification runs then start from."""

from __future__ import annotations

import json

import polars as pl
import pytest
import torch
from safetensors.torch import load_file
from snakemake_helpers import planned_jobs, snakemake, tiny_config, write_config
from transformers import AutoModelForCausalLM

from w2s.io import write_parquet
from w2s.process.launch import generative_job
from w2s.training.generative import generative_finetune

pytestmark = pytest.mark.workflow

TEXTS = [f"p{i % 5} w{i % 7} n{i % 3} w{i % 11}" for i in range(24)]


def write_splits(folder, labels: list[int]) -> list:
    paths = []
    for k, split in enumerate(("weak_train", "strong_train", "test")):
        rows = slice(8 * k, 8 * k + 8)
        frame = pl.DataFrame(
            {
                "id": [f"t:{i}" for i in range(24)][rows],
                "text": TEXTS[rows],
                "label": labels[rows],
                "group": ["all"] * 8,
            }
        )
        write_parquet(frame, folder / f"{split}.parquet")
        paths.append(folder / f"{split}.parquet")
    return paths


def test_generative_finetuning_learns_the_texts_and_never_reads_a_label(tiny_gpt2, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    labels = [i % 2 for i in range(24)]
    runs = {
        name: generative_finetune(
            tmp_path / f"{name}_model",
            str(tiny_gpt2),
            write_splits(tmp_path / name, lab),
            steps=6,
            lr=1e-3,
            batch_size=4,
            max_length=32,
            seed=0,
        )
        for name, lab in (("a", labels), ("b", [1 - label for label in labels]))
    }
    assert runs["a"]["n_texts"] == 24 and runs["a"]["steps"] == 6
    base = load_file(tiny_gpt2 / "model.safetensors")
    tuned = {name: load_file(tmp_path / f"{name}_model/model.safetensors") for name in runs}
    assert any(not (tuned["a"][k] == base[k]).all() for k in base)  # it learnt something
    # flipping every label changes nothing: byte-identical weights
    weights = [(tmp_path / f"{name}_model/model.safetensors").read_bytes() for name in runs]
    assert weights[0] == weights[1]


def test_generative_finetuning_caps_max_length_at_the_context_window(tiny_gpt2, tmp_path):
    long = tmp_path / "long.parquet"
    write_parquet(
        pl.DataFrame({"id": ["t:0", "t:1"], "text": ["ab " * 100, "cd"], "label": [0, 1]}), long
    )
    run = generative_finetune(
        tmp_path / "model",
        str(tiny_gpt2),
        [long],
        steps=2,
        lr=1e-3,
        batch_size=2,
        max_length=1000,
        seed=0,
    )  # 300 bytes in a 128-token window
    assert (run["max_length"], run["n_truncated"]) == (128, 1)


def test_runs_of_a_generatively_finetuned_model_start_from_it(tmp_path):
    config = tiny_config(
        pairs=[
            {"weak": "weakling", "strong": "strongling"},
            {"weak": "weakling", "strong": "strongling_gen"},
        ]
    )
    config["models"]["strongling_gen"] = {
        **config["models"]["strongling"],
        "generative_finetune": {"steps": 4, "lr": 1e-3, "batch_size": 8},
    }
    config["losses"] = {"xent": {"type": "xent"}}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    tuned = load_file(tmp_path / "results/generative/toy/seed0/strongling_gen/model.safetensors")
    base = load_file(tmp_path / "results/base_models/strongling_gen/model.safetensors")
    plain = load_file(tmp_path / "results/base_models/strongling/model.safetensors")
    assert all((base[k] == plain[k]).all() for k in plain)  # the same model, declared twice
    assert any(
        not (tuned[k] == base[k]).all() for k in base
    )  # generative finetuning moved its weights
    log = (tmp_path / "logs/ceiling/toy/seed0/strongling_gen.log").read_text()
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert dict(zip(runs["strong"], runs["generative"])) == {
        "strongling": False,
        "strongling_gen": True,
    }
    assert "model results/generative/toy/seed0/strongling_gen: 48 training examples" in log
    student_log = (tmp_path / "logs/student/toy/seed0/weakling/strongling_gen/xent.log").read_text()
    assert "model results/generative/toy/seed0/strongling_gen: " in student_log
    # the texts of the training splits only, so no model sees the test inputs before it is scored on them
    generative_log = (tmp_path / "logs/generative/toy/seed0/strongling_gen.log").read_text()
    assert "on 96 texts of 2 splits" in generative_log
    # the ceiling it is compared with is the adjusted one: finetuned from the same generatively finetuned model
    row = runs.filter(pl.col("generative")).row(0, named=True)
    ceiling = json.loads(
        (tmp_path / "results/ceiling/toy/seed0/strongling_gen/metrics.json").read_text()
    )
    assert row["ceiling_acc"] == ceiling["accuracy"] and ceiling.get("generative") is True

    # test texts are an explicit opt-in, which reruns the generative finetuning and what starts from it
    config["models"]["strongling_gen"]["generative_finetune"]["splits"] = [
        "weak_train",
        "strong_train",
        "test",
    ]
    write_config(tmp_path, config)
    planned = planned_jobs(tmp_path)
    assert (
        planned["generative_finetune"] == 1
        and planned["train_ceiling"] == 1
        and "train_weak" not in planned
    )
    snakemake(tmp_path, "--cores", "2")
    assert (
        "on 128 texts of 3 splits"
        in (tmp_path / "logs/generative/toy/seed0/strongling_gen.log").read_text()
    )


ZERO3 = {"stage": 3, "offload": False, "processes_per_node": 2, "nodes": 1}


def plain_and_zero3_runs(tmp_path, capfd, **recipe) -> tuple[dict, str]:
    """Rule generative_finetune's job run as one plain process and under ZeRO-3 in two (in minibatches of 2), each
    into tmp_path/<name>; returns each run's logged loss at every step, and the ZeRO-3 run's output."""
    paths = [str(p) for p in write_splits(tmp_path, [0] * 24)]
    losses = {}
    for name, layout in (("plain", {}), ("zero3", {"deepspeed": ZERO3, "minibatch_size": 2})):
        generative_job(
            out_dir=str(tmp_path / name),
            split_paths=paths,
            threads=1,
            log_every=1,
            seed=0,
            steps=6,
            lr=1e-3,
            max_length=32,
            **recipe,
            **layout,
        )
        output = capfd.readouterr().out
        losses[name] = [
            float(line.split("| loss ")[1].split()[0])
            for line in output.splitlines()
            if "| loss " in line
        ]
    return losses, output


@pytest.mark.kernel_sensitive
def test_a_deepspeed_model_finetunes_in_its_launchers_processes_like_the_plain_path(
    tiny_gpt2, tmp_path, capfd
):
    """Rule generative_finetune's job for a model entry under ZeRO-3 in two processes: started by the launcher,
    each batch split between the processes (batch 5 in minibatches of 2: one process runs a stand-in minibatch),
    the weights gathered and saved by rank 0 as a plain Hugging Face model, equal to the single-process result."""
    losses, output = plain_and_zero3_runs(tmp_path, capfd, source=str(tiny_gpt2), batch_size=5)
    assert "--nproc_per_node=2" in output and "2 processes (ZeRO-3)" in output
    assert not list(tmp_path.glob(".*.launch.json"))
    # the same mean token loss at every step (logged once, by rank 0): each process weighs its share rightly
    assert len(losses["zero3"]) == 6 and losses["zero3"] == pytest.approx(losses["plain"], abs=1e-4)
    base = load_file(tiny_gpt2 / "model.safetensors")
    plain, zero3 = (load_file(tmp_path / name / "model.safetensors") for name in ("plain", "zero3"))
    assert sorted(zero3) == sorted(
        plain
    )  # tied weights once, as save_pretrained writes a plain model
    moved = max((plain[k] - base[k]).abs().max().item() for k in base)
    difference = max((zero3[k] - plain[k]).abs().max().item() for k in plain)
    print(f"max |weight change| {moved:.2e}, max |ZeRO-3 x 2 - plain| {difference:.2e}")
    # Adam's normalised update turns the last bits of near-zero gradients summed in another order (other
    # minibatches) into weight differences of ~3e-6 here; clipping the gradient norm, as DeepSpeed does unless told
    # not to, moves them 1e-4
    assert moved > 3e-3 and difference < 3e-5
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "zero3")
    assert reloaded.lm_head.weight is reloaded.transformer.wte.weight


def test_a_deepspeed_model_in_bf16_saves_its_fp32_master_weights(tiny_gpt2, tmp_path, capfd):
    """With autocast bf16, generative finetuning under ZeRO-3 computes in DeepSpeed's bf16 mode and saves the fp32
    master weights (values no bf16 number equals), tied weights once; its losses follow the plain bf16-autocast
    run's."""
    losses, output = plain_and_zero3_runs(
        tmp_path, capfd, source=str(tiny_gpt2), batch_size=4, autocast="bf16"
    )
    assert "2 processes (ZeRO-3), DeepSpeed bf16" in output
    plain, zero3 = (load_file(tmp_path / name / "model.safetensors") for name in ("plain", "zero3"))
    assert sorted(zero3) == sorted(plain)
    weight = zero3["transformer.h.0.mlp.c_fc.weight"]
    assert weight.dtype == torch.float32
    assert (weight != weight.bfloat16().float()).float().mean() > 0.9
    assert losses["zero3"] == pytest.approx(losses["plain"], abs=5e-3)  # measured 6e-4 at most


def test_the_rule_finetunes_a_deepspeed_model_in_its_launcher(tmp_path):
    """A model entry with DeepSpeed in two processes: rule generative_finetune's job goes through the launcher."""
    config = tiny_config()
    config["models"]["strongling"]["deepspeed"] = {"stage": 3, "processes_per_node": 2}
    config["models"]["strongling"]["generative_finetune"] = {
        "steps": 2,
        "lr": 1e-3,
        "batch_size": 8,
    }
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2", "results/generative/toy/seed0/strongling")
    log = (tmp_path / "logs/generative/toy/seed0/strongling.log").read_text()
    assert "torch.distributed.run --nproc_per_node=2" in log and "2 processes (ZeRO-3)" in log
    assert "step 2/2 | loss" in log
    saved = load_file(tmp_path / "results/generative/toy/seed0/strongling/model.safetensors")
    base = load_file(tmp_path / "results/base_models/strongling/model.safetensors")
    assert sorted(saved) == sorted(base) and any(not (saved[k] == base[k]).all() for k in base)
    assert not list(
        (tmp_path / "results/generative/toy/seed0").glob(".*")
    )  # no launch spec left behind
