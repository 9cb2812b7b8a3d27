"""The five tasks the paper's reference code formats (SciQ, BoolQ, CosmosQA, Amazon polarity, Anthropic HH), in its
formats."""

from __future__ import annotations

import random

from w2s.data.tasks.base import PARQUET_EXPORT, HFTask, one_candidate


def format_sciq(row: dict, rng: random.Random) -> tuple[str, int]:
    distractors = [row["distractor1"], row["distractor2"], row["distractor3"]]
    answer, label = one_candidate(rng, row["correct_answer"], distractors)
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


def format_anthropic_hh_pair(row: dict, rng: random.Random) -> tuple[str, int]:
    """Pair format: both responses after their shared dialogue; is response A the chosen one?"""
    chosen, rejected = row["chosen"], row["rejected"]
    # The two transcripts share the dialogue up to the final assistant turn; show that once. The shared part must
    # end at an assistant turn in rejected too, or a human turn that rejected extends would be cut in two.
    split = chosen.rfind("\n\nAssistant:")
    prefix = (
        chosen[:split]
        if split > 0 and rejected.startswith(chosen[: split + len("\n\nAssistant:")])
        else ""
    )
    chosen_reply, rejected_reply = chosen[len(prefix) :].strip(), rejected[len(prefix) :].strip()
    label = int(rng.random() < 0.5)
    first, second = (chosen_reply, rejected_reply) if label else (rejected_reply, chosen_reply)
    return (
        f"{prefix.strip()}\n\nResponse A: {first}\n\nResponse B: {second}\n\nIs response A better?",
        label,
    )


def format_anthropic_hh_single(row: dict, rng: random.Random) -> tuple[str, int]:
    """Single-response format of the reference code: is this the chosen response? (Near chance for most models.)"""
    label = int(rng.random() < 0.5)
    return (row["chosen"] if label else row["rejected"]), label


TASKS = {
    "sciq": HFTask(
        "allenai/sciq",
        "https://huggingface.co/datasets/allenai/sciq",
        ("question", "correct_answer", "distractor1", "distractor2", "distractor3"),
        {"qa": format_sciq},
    ),
    "boolq": HFTask(
        "google/boolq",
        "https://huggingface.co/datasets/google/boolq",
        ("question", "passage", "answer"),
        {"passage_question": format_boolq},
        label_column="answer",
        labels=(False, True),
    ),
    # The test split's labels are hidden, given as -1. Main holds only a loading script: the export is read.
    "cosmos_qa": HFTask(
        "allenai/cosmos_qa",
        "https://huggingface.co/datasets/allenai/cosmos_qa",
        ("context", "question", "answer0", "answer1", "answer2", "answer3", "label"),
        {"context_question_answer": format_cosmos_qa},
        revision=PARQUET_EXPORT,
        label_column="label",
        labels=(0, 1, 2, 3),
        unlabelled=-1,
    ),
    "amazon_polarity": HFTask(
        "fancyzhx/amazon_polarity",
        "https://huggingface.co/datasets/fancyzhx/amazon_polarity",
        ("title", "content", "label"),
        {"title_content": format_amazon_polarity},
        label_column="label",
        labels=(0, 1),
    ),
    "anthropic_hh": HFTask(
        "Anthropic/hh-rlhf",
        "https://huggingface.co/datasets/Anthropic/hh-rlhf",
        ("chosen", "rejected"),
        {"pair": format_anthropic_hh_pair, "single": format_anthropic_hh_single},
    ),
}
