"""DeepSpeed ZeRO on CPU (gloo): ZeRO-2 and ZeRO-3 with 1 and 2 processes, started by the real launcher, match the
plain single-process path; the checkpoint is consolidated into the plain format; multi-node launch commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from snakemake_helpers import finetune_directly, snakemake, tiny_config, write_config
from tolerance import assert_predictions_close

from w2s.data.sources import SyntheticSentimentSource
from w2s.data.splits import sample_splits
from w2s.jobs.run import label_split, zero_shot
from w2s.kinds import CLASSIFICATION
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.lora import is_adapter_checkpoint
from w2s.process.launch import launch_command, leave_process_group, rendezvous_port
from w2s.records.params import PredictionParams

pytestmark = pytest.mark.workflow

# With one process ZeRO gives the plain path's predictions bit for bit; with two, each process sums its share of a
# batch, and Adam's normalised update turns those last-bit differences in near-zero gradients into small weight
# differences: measured at most 1.2e-7 on the AVX-512, AVX2 and portable kernel paths. (Clipping the gradient norm
# at 1, DeepSpeed's default unless told otherwise, moves them 6e-2 here.)
TOLERANCE = 1e-5  # on each test example's p(1)


@pytest.fixture(scope="module")
def task(tmp_path_factory, tiny_gpt2):
    root = tmp_path_factory.mktemp("deepspeed")
    splits, _ = sample_splits(
        SyntheticSentimentSource(n_rows=500, length=6), "toy", {"train": 44, "test": 24}, 0
    )
    for name, frame in splits.items():
        frame.write_parquet(root / f"{name}.parquet")
    return root, tiny_gpt2


def run(
    task, name: str, deepspeed: dict | None, lora: dict | None = None, autocast: str = "off"
) -> dict:
    root, base = task
    # lr big enough that the gradient norm passes 1, where DeepSpeed clips unless told not to
    out = finetune_directly(
        root,
        root / name,
        base,
        lr=1e-2,
        max_length=48,
        deepspeed=deepspeed,
        lora=lora,
        autocast=autocast,
    )
    return {
        "metrics": json.loads(Path(out["metrics"]).read_text()),
        "table": pl.read_parquet(out["predictions"]),
        "out": out,
    }


PREDICTING = PredictionParams(
    dtype="float32", trust_remote_code=False, max_length=48, predict_batch_size=16, autocast="off"
)


@pytest.fixture(scope="module")
def plain(task):
    return run(task, "plain", None)


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize("stage,processes", [(2, 1), (2, 2), (3, 1), (3, 2)])
def test_zero_matches_plain_path(task, plain, stage, processes, tmp_path, monkeypatch):
    # DeepSpeed compiles no C++ extension for a CPU run (its shared-memory all-reduce took 48 s to build in a suite run)
    extensions = tmp_path / "torch_extensions"
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(extensions))
    result = run(
        task,
        f"zero{stage}_{processes}",
        {"stage": stage, "offload": False, "processes_per_node": processes, "nodes": 1},
    )
    assert not list(extensions.rglob("*.so"))
    undecided = assert_predictions_close(result["table"], plain["table"], TOLERANCE)
    accuracy = result["metrics"]["accuracy"], plain["metrics"]["accuracy"]
    assert abs(accuracy[0] - accuracy[1]) <= undecided / plain["metrics"]["n"], accuracy
    assert result["metrics"]["steps"] == plain["metrics"]["steps"] == 8
    p1 = result["table"]["soft_label"].to_numpy()
    assert np.abs(p1 - 0.5).max() > 10 * TOLERANCE  # training moved the model beyond the tolerance

    # The checkpoint is consolidated (ZeRO-3 partitions the weights) into the plain format: it reloads by path
    # and predicts what the run reported.
    checkpoint = result["out"]["checkpoint"]
    model, tokenizer = Classifier.load(checkpoint), load_tokenizer(checkpoint)
    frame = pl.read_parquet(task[0] / "test.parquet")
    table, _ = CLASSIFICATION.predict(model, tokenizer, frame, 48, PREDICTING)
    assert_predictions_close(
        table, result["table"]
    )  # with 2 processes, the run's batches were split between them


def test_zero3_in_deepspeeds_bf16_mode_keeps_and_saves_fp32_master_weights(task, capfd):
    """With training.autocast bf16, a ZeRO-3 run of two processes computes in DeepSpeed's own bf16 mode (bf16
    weights, fp32 masters in the optimizer): it follows the plain path's bf16-autocast run to bf16's precision, and
    its checkpoint holds the fp32 masters (values no bf16 number equals), not the module's bf16 rounding."""
    from safetensors.torch import load_file

    plain = run(task, "plain_bf16", None, autocast="bf16")
    zero = run(
        task,
        "zero3_bf16",
        {"stage": 3, "offload": False, "processes_per_node": 2, "nodes": 1},
        autocast="bf16",
    )
    output = capfd.readouterr()
    assert "bf16 (DeepSpeed's bf16 mode, fp32 master weights)" in output.out + output.err
    p1, q1 = (r["table"]["soft_label"].to_numpy() for r in (zero, plain))
    assert np.abs(q1 - 0.5).max() > 0.1  # trained well away from the start
    # bf16 weights, layer norms and gradient reductions where the plain run casts per matmul: measured 0.004 on
    # average, 0.037 at most (a row near 0.5)
    assert np.abs(p1 - q1).mean() < 0.01 and np.abs(p1 - q1).max() < 0.06
    weights = load_file(Path(zero["out"]["checkpoint"]) / "model.safetensors")
    block = weights["h.0.mlp.c_fc.weight"]
    assert block.dtype == torch.float32
    assert (block != block.bfloat16().float()).float().mean() > 0.9


LORA = {"r": 4, "alpha": 8, "dropout": 0.0}


@pytest.fixture(scope="module")
def plain_lora(task):
    return run(task, "lora_plain", None, LORA)


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize("stage,processes", [(2, 1), (3, 2)])
def test_lora_under_zero_matches_plain_lora(task, plain_lora, stage, processes):
    """ZeRO partitions the frozen backbone too; the adapters train as in one process, and the checkpoint (under
    ZeRO-3 gathered from the partitions of the trained weights alone) holds the adapters."""
    reference = plain_lora
    result = run(
        task,
        f"lora_zero{stage}_{processes}",
        {"stage": stage, "offload": False, "processes_per_node": processes, "nodes": 1},
        LORA,
    )
    assert_predictions_close(result["table"], reference["table"], TOLERANCE)
    p1 = result["table"]["soft_label"].to_numpy()
    assert np.abs(p1 - 0.5).max() > 10 * TOLERANCE
    checkpoint = result["out"]["checkpoint"]
    assert (
        is_adapter_checkpoint(checkpoint) and not (Path(checkpoint) / "model.safetensors").exists()
    )
    table, _ = CLASSIFICATION.predict(
        Classifier.load(checkpoint),
        load_tokenizer(checkpoint),
        pl.read_parquet(task[0] / "test.parquet"),
        48,
        PREDICTING,
    )
    assert_predictions_close(table, result["table"])


PREDICTION = {
    "dtype": "float32",
    "trust_remote_code": False,
    "max_length": 48,
    "predict_batch_size": 4,
    "autocast": "off",
}
SEVERAL = {"stage": 3, "offload": False, "processes_per_node": 2, "nodes": 1}


@pytest.mark.kernel_sensitive
def test_prediction_jobs_of_a_multi_process_model_run_in_the_launchers_processes(
    task, plain, tmp_path, capfd
):
    """Labelling (or a test shard) and zero-shot scoring of a model whose entry trains in several processes run in
    that many: the weights partitioned over them (ZeRO-3 inference), the rows split, and rank 0 writing."""
    root, base = task
    checkpoint = plain["out"]["checkpoint"]
    tables = {}
    for name, params in (("one", PREDICTION), ("several", {**PREDICTION, "deepspeed": SEVERAL})):
        out = tmp_path / f"{name}.parquet"
        label_split(
            checkpoint,
            str(root / "test.parquet"),
            str(out),
            params,
            {"split": "test"},
            1,
            shard=1,
            shards=2,
        )
        tables[name] = pl.read_parquet(out)
    assert "--nproc_per_node=2" in capfd.readouterr().out
    assert len(tables["several"]) == 12 and not list(tmp_path.glob("*.launch.json"))
    assert_predictions_close(tables["several"], tables["one"])

    scored = {}
    for name, params in (("one", PREDICTION), ("several", {**PREDICTION, "deepspeed": SEVERAL})):
        out = {
            "metrics": str(tmp_path / f"{name}_zero_shot.json"),
            "predictions": str(tmp_path / f"{name}_zero_shot.parquet"),
        }
        zero_shot(
            {"source": str(base), "label_tokens": ["a", "b"], **params},
            [str(root / "test.parquet")],
            [out],
            [
                {
                    "dataset": "toy",
                    "seed": 0,
                    "role": "zero_shot",
                    "model": "m",
                    "weak": None,
                    "loss": None,
                }
            ],
            1,
        )
        scored[name] = pl.read_parquet(out["predictions"])
    assert "--nproc_per_node=2" in capfd.readouterr().out
    assert_predictions_close(scored["several"], scored["one"])
    assert scored["one"]["soft_label"].std() > 0  # the readout head answers, not a constant


def test_launch_command_one_node():
    command = launch_command("spec.json", nodes=1, processes_per_node=4)
    assert command[1:] == [
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=4",
        "--standalone",
        "-m",
        "w2s.process.launch",
        "spec.json",
    ]


def test_launch_command_two_nodes_in_a_slurm_job():
    env = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "gpu[07-08]"}
    command = launch_command(
        "spec.json",
        nodes=2,
        processes_per_node=8,
        env=env,
        head_address=lambda nodelist: {"gpu[07-08]": "gpu07"}[nodelist],
    )
    assert command[:6] == [
        "srun",
        "--overlap",
        "--nodes=2",
        "--ntasks=2",
        "--ntasks-per-node=1",
        "--kill-on-bad-exit=1",
    ]
    assert command[7:] == [
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=8",
        "--nnodes=2",
        "--rdzv_backend=c10d",
        "--rdzv_endpoint=gpu07:24242",
        "--rdzv_id=4242",
        "-m",
        "w2s.process.launch",
        "spec.json",
    ]


def test_each_slurm_job_meets_at_a_port_of_its_own():
    """Two multi-node jobs may share a first node: their rendezvous ports differ, and stay in the unprivileged range
    below the kernel's ephemeral ports."""
    ports = {job: rendezvous_port(job) for job in ("4242", "4243", "16242", "987654321", "1234_5")}
    assert ports["4242"] == 24242 and ports["4243"] == 24243
    assert (
        ports["16242"] == 24242
    )  # ids 12,000 apart share one: jobs that far apart rarely run at once
    assert ports["1234_5"] == rendezvous_port("12345")
    assert all(20_000 <= port < 32_000 for port in ports.values())


def test_multi_node_outside_slurm_is_an_error():
    with pytest.raises(Exception, match="must run inside a Slurm job"):
        launch_command("spec.json", nodes=2, processes_per_node=1, env={})


def test_a_worker_that_finished_leaves_its_process_group(tmp_path):
    """Left to interpreter teardown, gloo's threads can abort a worker after it wrote its outputs."""
    import torch.distributed as dist

    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    leave_process_group()
    assert not dist.is_initialized()
    leave_process_group()  # a job that never started DeepSpeed has none to leave


def test_pipeline_trains_a_deepspeed_model(tmp_path):
    """A model entry asking for DeepSpeed goes through the launcher inside the Snakemake job."""
    config = tiny_config()
    config["models"]["strongling"]["deepspeed"] = {"stage": 3, "processes_per_node": 2}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2", "results/ceiling/toy/seed0/strongling/metrics.json")
    log = (tmp_path / "logs/ceiling/toy/seed0/strongling.log").read_text()
    assert "torch.distributed.run --nproc_per_node=2" in log
    metrics = json.loads(
        (tmp_path / "results/ceiling/toy/seed0/strongling/metrics.json").read_text()
    )
    assert metrics["n"] == 32
    assert (tmp_path / "results/ceiling/toy/seed0/strongling/checkpoint/head.safetensors").exists()
    assert not (tmp_path / "results/ceiling/toy/seed0/strongling/launch.json").exists()


def answer_rows(start: int, n: int) -> pl.DataFrame:
    """A generative task a tiny model learns in a few steps: "e0042=" -> "7"."""
    ids = range(start, start + n)
    return pl.DataFrame(
        {
            "id": [f"q:{i}" for i in ids],
            "text": [f"e{i:04d}=" for i in ids],
            "answer": ["7"] * n,
            "label": [1] * n,
            "group": ["all"] * n,
        },
        schema_overrides={"label": pl.Int8},
    )


@pytest.mark.kernel_sensitive
def test_a_generative_task_under_zero3_in_two_processes_matches_the_plain_path(tmp_path, tiny_gpt2):
    """The answer model's training (answer tokens' cross-entropy) and its greedy answers, generated in every
    process with the weights partitioned: the same answers and log-probabilities as one plain process."""
    answer_rows(0, 44).write_parquet(tmp_path / "train.parquet")
    answer_rows(100, 24).write_parquet(tmp_path / "test.parquet")
    tables = {}
    for name, deepspeed in (("plain", None), ("zero3", SEVERAL)):
        out = finetune_directly(
            tmp_path,
            tmp_path / name,
            tiny_gpt2,
            lr=1e-3,
            max_length=16,
            deepspeed=deepspeed,
            target_column="answer",
            loss={"type": "xent"},
            answers={"stop": ".", "max_new_tokens": 2, "prefix": ""},
        )
        tables[name] = pl.read_parquet(out["predictions"])
    plain, zero3 = tables["plain"], tables["zero3"]
    assert zero3.columns == plain.columns and zero3["id"].equals(plain["id"])
    assert zero3["generated"].equals(plain["generated"])
    # log-probabilities to a relative 1% in probability (the classifier's p(1) is compared to 1e-5 absolute; an
    # answer's probability is far below 1, where an absolute tolerance would hold for any two models)
    difference = (zero3["logprob"] - plain["logprob"]).abs().max()
    assert difference <= 1e-2, difference
    # the 8 steps of the classifier's recipe taught the answer (not yet its stop): the untrained model writes anything
    assert plain["generated"].str.starts_with("7").all()
