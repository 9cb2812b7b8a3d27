"""Hugging Face datasets formatted as binary tasks the way the paper's reference code formats them.

Each task names the columns it needs and a formatter `(row, rng) -> (text, label)`. Rows come from
`datasets.load_dataset`, either by hub id (`source`) or from local files in the dataset's own schema
(`data_files`), so the same code path serves the Hub and offline fixtures.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from w2s.data.sources import Source
from w2s.errors import W2SError


def format_sciq(row: dict, rng: random.Random) -> tuple[str, int]:
    label = int(rng.random() < 0.5)
    distractors = [row["distractor1"], row["distractor2"], row["distractor3"]]
    answer = row["correct_answer"] if label else rng.choice(distractors)
    return f"Q: {row['question']} A: {answer}", label


def format_boolq(row: dict, rng: random.Random) -> tuple[str, int]:
    return f"Passage: {row['passage']}\nQuestion: {row['question']}", int(row["answer"])


def format_cosmos_qa(row: dict, rng: random.Random) -> tuple[str, int]:
    answers = [row[f"answer{i}"] for i in range(4)]
    true_answer = answers[int(row["label"])]
    if "None of the above choices" in true_answer:
        # Showing the correct "none of the above" alone is not a checkable claim; the reference labels it false.
        label = 0
    else:
        label = int(rng.random() < 0.5)
    shown = true_answer if label else rng.choice([a for a in answers if a != true_answer])
    return f"Context: {row['context']}\nQuestion: {row['question']}\nAnswer: {shown}", label


def format_amazon_polarity(row: dict, rng: random.Random) -> tuple[str, int]:
    return f"{row['title']} {row['content']}", int(row["label"])


def format_anthropic_hh(row: dict, rng: random.Random) -> tuple[str, int]:
    """Single-response format of the reference code: is this the chosen response? (Near chance for most models.)"""
    label = int(rng.random() < 0.5)
    return (row["chosen"] if label else row["rejected"]), label


def format_anthropic_hh_pair(row: dict, rng: random.Random) -> tuple[str, int]:
    """Pair format: both responses after their shared dialogue; is response A the chosen one?"""
    chosen, rejected = row["chosen"], row["rejected"]
    # The two transcripts share the dialogue up to the final assistant turn; show that once. The shared part must
    # end at an assistant turn in rejected too, or a human turn that rejected extends would be cut in two.
    split = chosen.rfind("\n\nAssistant:")
    prefix = chosen[:split] if split > 0 and rejected.startswith(chosen[: split + len("\n\nAssistant:")]) else ""
    chosen_reply, rejected_reply = chosen[len(prefix):].strip(), rejected[len(prefix):].strip()
    label = int(rng.random() < 0.5)
    first, second = (chosen_reply, rejected_reply) if label else (rejected_reply, chosen_reply)
    return f"{prefix.strip()}\n\nResponse A: {first}\n\nResponse B: {second}\n\nIs response A better?", label


@dataclass(frozen=True)
class HFTask:
    default_source: str
    columns: tuple[str, ...]
    format: Callable[[dict, random.Random], tuple[str, int]]
    default_subset: str | None = None
    label_column: str | None = None  # the source's own label column, checked before formatting
    labels: tuple = ()  # its valid values
    unlabelled: object = None  # the value the dataset card gives rows without a label (dropped, and counted)


HF_TASKS: dict[str, HFTask] = {
    "sciq": HFTask(
        "allenai/sciq", ("question", "correct_answer", "distractor1", "distractor2", "distractor3"), format_sciq
    ),
    "boolq": HFTask("google/boolq", ("question", "passage", "answer"), format_boolq, label_column="answer",
                    labels=(False, True)),
    # https://huggingface.co/datasets/allenai/cosmos_qa: the test split's labels are hidden, given as -1.
    "cosmos_qa": HFTask(
        "allenai/cosmos_qa", ("context", "question", "answer0", "answer1", "answer2", "answer3", "label"),
        format_cosmos_qa, label_column="label", labels=(0, 1, 2, 3), unlabelled=-1,
    ),
    "amazon_polarity": HFTask("fancyzhx/amazon_polarity", ("title", "content", "label"), format_amazon_polarity,
                              label_column="label", labels=(0, 1)),
    "anthropic_hh": HFTask("Anthropic/hh-rlhf", ("chosen", "rejected"), format_anthropic_hh),
}

HH_FORMATS = {"single": format_anthropic_hh, "pair": format_anthropic_hh_pair}


def checked_labels(task_name: str, rows, where: str):
    """`rows` without the rows the dataset card marks as unlabelled, and how many those were; any other label
    outside the task's valid values is an error that names the dataset, the split or file, and the count."""
    task = HF_TASKS[task_name]
    if task.label_column is None:
        return rows, 0
    values = rows.data.column(task.label_column).to_pylist()  # straight from Arrow: fast on millions of rows
    marks_unlabelled = task.unlabelled is not None  # else a missing (None) label would count as marked
    unlabelled = {i for i, v in enumerate(values) if marks_unlabelled and v == task.unlabelled}
    invalid = [v for i, v in enumerate(values) if v not in task.labels and i not in unlabelled]
    if invalid:
        raise W2SError(
            f"dataset {task_name} ({where}): {len(invalid)} of {len(values)} rows have a {task.label_column!r} "
            f"outside {list(task.labels)} (e.g. {invalid[0]!r})"
        )
    if unlabelled:
        print(f"dataset {task_name} ({where}): dropping {len(unlabelled)} of {len(values)} rows whose "
              f"{task.label_column!r} is {task.unlabelled!r}, the dataset's mark for an unlabelled row", flush=True)
        rows = rows.select([i for i in range(len(values)) if i not in unlabelled])
    return rows, len(unlabelled)


def load_hf_rows(task_name: str, options: dict):
    """Load the configured splits of a HF dataset (hub id, local dataset dir, or local data_files) as one Dataset,
    with the count of unlabelled rows left out."""
    import datasets  # slow import; only the data stage needs it

    task = HF_TASKS[task_name]
    splits = options.get("splits", ["train"])
    data_files = options.get("data_files")
    if data_files:
        files = [data_files] if isinstance(data_files, str) else list(data_files)
        for file in files:
            if not Path(file).exists():
                raise W2SError(f"dataset {task_name}: data file {file} does not exist")
        builder = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}.get(Path(files[0]).suffix)
        if builder is None:
            raise W2SError(f"dataset {task_name}: cannot tell the format of {files[0]}; use .jsonl, .csv or .parquet")
        try:
            loaded = [datasets.load_dataset(builder, data_files=files, split="train")]
        except Exception as exc:  # malformed rows surface as the datasets library's own error types
            raise W2SError(f"dataset {task_name}: could not read {', '.join(files)} as {builder}: {exc}") from exc
        wheres = [", ".join(files)]
    else:
        source = options.get("source", task.default_source)
        subset = options.get("subset", task.default_subset)
        try:
            loaded = [datasets.load_dataset(source, subset, split=split) for split in splits]
        except Exception as exc:  # offline, unknown id, unknown split: all end here
            raise W2SError(f"dataset {task_name}: could not load {source!r} splits {splits}: {exc}") from exc
        wheres = [f"{source} split {split}" for split in splits]
    for part, where in zip(loaded, wheres, strict=True):
        missing = [c for c in task.columns if c not in part.column_names]
        if missing:
            raise W2SError(f"dataset {task_name} ({where}): missing column(s) {missing}; found {part.column_names}")
    checked = [checked_labels(task_name, part, where) for part, where in zip(loaded, wheres, strict=True)]
    parts = [part for part, _ in checked]
    return (datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]), sum(n for _, n in checked)


class HFSource(Source):
    def __init__(self, task_name: str, options: dict):
        if task_name not in HF_TASKS:
            raise W2SError(f"unknown Hugging Face task {task_name!r}; known: {sorted(HF_TASKS)}")
        self.name = task_name
        self.rows, unlabelled = load_hf_rows(task_name, options)
        self.dropped = {"unlabelled_rows": unlabelled} if unlabelled else {}
        self.format = HF_TASKS[task_name].format
        if task_name == "anthropic_hh":
            fmt = options.get("format", "pair")
            if fmt not in HH_FORMATS:
                raise W2SError(f"dataset anthropic_hh: options.format must be one of {sorted(HH_FORMATS)}, got {fmt!r}")
            self.format = HH_FORMATS[fmt]

    def __len__(self) -> int:
        return len(self.rows)

    def example(self, index: int, rng: random.Random) -> tuple[str, int]:
        text, label = self.format(self.rows[index], rng)
        if label not in (0, 1):
            raise W2SError(f"dataset {self.name}: row {index} gives label {label!r}; expected 0 or 1")
        return text, label
