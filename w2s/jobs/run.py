"""The prediction jobs behind the rules: a backbone's activations of a split (linear probes), a trained model's
predictions of a split (one shard of the weak labels, or of a run's test predictions), and a model's zero-shot
answer. What a prediction is, and its file, are the task kind's (w2s.kinds); the files are in the format of
`w2s.records.predictions`. (Training: w2s.jobs.finetune.)
"""

from __future__ import annotations

import polars as pl
import torch
from safetensors.torch import save_file

from w2s.data.prompting import draw_shots, prompted
from w2s.io import atomic_path, write_parquet
from w2s.kinds import of_params
from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.probe import FEATURES
from w2s.models.tokens import encode
from w2s.process.launch import relaunched
from w2s.records.params import ActivationParams, PredictionParams, ZeroShotParams
from w2s.records.predictions import move_stats, read_split, write_scored
from w2s.training.distributed import (
    inference_module,
    init_distributed,
)
from w2s.training.predict import last_token_features
from w2s.training.runtime import use_threads
from w2s.version import checkpoint_sha256, code_version


def extract_activations(params: dict, split_path, out_path, threads: int) -> None:
    """A backbone's last-token activations of a split's examples, in row order, for linear probes (safetensors,
    with the number of truncated texts in its metadata)."""
    params = ActivationParams.from_dict(params)
    use_threads(threads)
    frame = read_split(split_path, "label")
    tokenizer = load_tokenizer(params.source, params.trust_remote_code)
    model = Classifier.load(params.source, params.dtype, trust_remote_code=params.trust_remote_code)
    ids, truncated = encode(frame["text"].to_list(), tokenizer, model.max_tokens(params.max_length))
    features = last_token_features(
        model, ids, tokenizer.pad_token_id, params.predict_batch_size, params.autocast
    )
    with atomic_path(out_path) as tmp:
        save_file(
            {FEATURES: features.contiguous()},
            tmp,
            metadata={"n_truncated": str(truncated), "source": params.source},
        )
    print(
        f"activations of {len(frame)} rows of {split_path} ({features.shape[1]} wide, {truncated} truncated) from "
        f"{params.source}",
        flush=True,
    )


def label_split(
    checkpoint,
    split_path,
    out_path,
    params: dict,
    info: dict,
    threads: int,
    shard: int = 0,
    shards: int = 1,
) -> pl.DataFrame | None:
    """Write a trained model's predictions (the weak model's soft labels, or a run's test predictions) on shard
    `shard` of `shards` of a split (contiguous rows, so that the shards concatenated in order are the whole split),
    with provenance in the parquet metadata. A model entry with DeepSpeed predicts in the processes of its launcher
    (`prediction_model`), and rank 0 writes."""
    job, params = dict(locals()), PredictionParams.from_dict(params)
    if relaunched("w2s.jobs.run:label_split", job, f"{out_path}.launch.json", params.deepspeed):
        return None
    use_threads(threads)
    rank = join_processes(params)
    frame = read_split(split_path, "label")
    start, stop, total = (
        len(frame) * shard // shards,
        len(frame) * (shard + 1) // shards,
        len(frame),
    )
    frame = frame.slice(start, stop - start)
    kind = of_params(params)
    tokenizer = load_tokenizer(str(checkpoint), params.trust_remote_code)
    model = kind.load_model(str(checkpoint), params)
    table, truncated = kind.predict(
        prediction_model(model, params),
        tokenizer,
        frame,
        model.max_tokens(params.max_length),
        params,
    )
    if rank != 0:
        return None
    # The shard's place in the split, so that the merge can check that the shards cover it exactly.
    write_labels(
        table,
        truncated,
        checkpoint,
        out_path,
        {**info, "row_start": start, "row_stop": stop, "split_rows": total},
    )
    print(
        f"predicted rows {start}-{stop} of {split_path} (shard {shard + 1} of {shards})", flush=True
    )
    return table


def join_processes(params: PredictionParams | ZeroShotParams) -> int:
    """This process's rank: in a job launched for a DeepSpeed model entry, after joining the others; else 0."""
    if not params.deepspeed:
        return 0
    init_distributed()
    return torch.distributed.get_rank()


def prediction_model(
    model: Classifier, params: PredictionParams | ZeroShotParams
) -> torch.nn.Module:
    """The model a prediction job runs: under a model entry's ZeRO-3, partitioned over the launched processes."""
    launch = params.deepspeed
    return inference_module(model, launch["stage"]) if launch else model


def write_labels(table: pl.DataFrame, truncated: int, checkpoint, out_path, info: dict) -> None:
    """A predictions file with its provenance: which checkpoint made it, with which code."""
    metadata = {
        **info,
        "checkpoint_sha256": checkpoint_sha256(checkpoint),
        "code_version": code_version(),
        "n_truncated": truncated,
        **move_stats(table),
    }
    write_parquet(table, out_path, metadata)
    illegal = (
        f", {metadata['illegal_answers']} answers not a legal move, the right move (however it marks check) "
        f"{metadata['move_accuracy']:.4f}"
        if "move_accuracy" in metadata
        else ""
    )
    print(
        f"wrote {out_path}: {len(table)} rows, accuracy against ground truth {table['correct'].mean():.4f}"
        + illegal,
        flush=True,
    )


def zero_shot(
    params: dict, test_paths: list, outs: list[dict], infos: list[dict], threads: int
) -> list[dict] | None:
    """Score a model's own answer (its label tokens' logits at the last token), untrained, on test splits (one per
    seed: the model is loaded once for all); in the launcher's processes for a DeepSpeed model entry."""
    job, params = dict(locals()), ZeroShotParams.from_dict(params)
    if relaunched(
        "w2s.jobs.run:zero_shot", job, f"{outs[0]['metrics']}.launch.json", params.deepspeed
    ):
        return None
    tests = [(read_split(path, "label"), None) for path in test_paths]
    return score_untrained(params, tests, outs, infos, threads)


def few_shot(
    params: dict,
    test_paths: list,
    train_paths: list,
    label_paths: list | None,
    outs: list[dict],
    infos: list[dict],
    threads: int,
) -> list[dict] | None:
    """Score a model's own answer, untrained, to k-shot prompts (w2s.data.prompting) of each seed's test split: k
    worked examples of that seed's strong_train, labelled with the truth (`label_paths` None) or with a weak model's
    labels of it (its labels file per seed), before each test item. The predictions file keeps the test item's own
    text and lists its examples' ids (`shot_ids`)."""
    job, params = dict(locals()), ZeroShotParams.from_dict(params)
    if relaunched(
        "w2s.jobs.run:few_shot", job, f"{outs[0]['metrics']}.launch.json", params.deepspeed
    ):
        return None
    shots, kind = params.few_shot, of_params(params)
    tests = []
    for i, (test_path, train_path) in enumerate(zip(test_paths, train_paths, strict=True)):
        test, train = read_split(test_path, "label"), read_split(train_path, "label")
        labels = kind.shown_labels(train, label_paths[i] if label_paths else None)
        drawn = draw_shots(
            test["text"].to_list(), train["text"].to_list(), shots["k"], infos[i]["seed"]
        )
        examples = kind.demonstrations(train, labels, params)
        # the predictions file keeps the test item's own text, and which examples preceded it
        ids = train["id"].to_list()
        kept = pl.DataFrame(
            {"text": test["text"], "shot_ids": [[ids[j] for j in row] for row in drawn]}
        )
        tests.append((prompted(test, examples, drawn, shots["separator"]), kept))
    scored = score_untrained(params, tests, outs, infos, threads)
    for metrics in scored or []:
        if metrics["n_test_truncated"]:
            print(
                f"warning: {metrics['n_test_truncated']} of {metrics['n']} k-shot prompts did not fit the model's "
                f"context (or {params.max_length} tokens) and lost their first tokens: fewer than k examples "
                "precede those items",
                flush=True,
            )
    return scored


def score_untrained(
    params: ZeroShotParams, tests: list, outs: list[dict], infos: list[dict], threads: int
):
    """Score the model of `params` (the base model, untrained) on each test split, a (frame, columns) pair whose
    columns (or None) replace or join those of its predictions file, writing each run's predictions and metrics;
    in the launcher's processes for a DeepSpeed model entry, rank 0 writing."""
    use_threads(threads)
    rank = join_processes(params)
    kind = of_params(params)
    tokenizer = load_tokenizer(params.source, params.trust_remote_code)
    model = kind.load_model(params.source, params, zero_shot=True)
    predicting = prediction_model(model, params)
    scored = []
    for (frame, columns), out, info in zip(tests, outs, infos, strict=True):
        table, truncated = kind.predict(
            predicting, tokenizer, frame, model.max_tokens(params.max_length), params
        )
        if columns is not None:
            table = table.with_columns(columns)
        if rank == 0:
            scored.append(write_scored(table, out, info, n_test_truncated=truncated))
    return scored if rank == 0 else None
