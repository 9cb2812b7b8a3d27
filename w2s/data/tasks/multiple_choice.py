"""Multiple-choice tasks: each item becomes one binary example (question + one candidate answer), as the paper's
reference code does for SciQ: label 1 shows the correct answer, label 0 one wrong answer drawn at random.

Cards (the schema each task reads):
- DREAM: https://huggingface.co/datasets/dataset-org/dream
- HellaSwag: https://huggingface.co/datasets/Rowan/hellaswag
- OpenBookQA: https://huggingface.co/datasets/allenai/openbookqa
- QuAIL: https://huggingface.co/datasets/textmachinelab/quail
- PIQA: https://huggingface.co/datasets/ybisk/piqa
- QuaRTz: https://huggingface.co/datasets/allenai/quartz
- Social IQa: https://huggingface.co/datasets/allenai/social_i_qa

The paper (Burns et al. 2023, Appendix A) gives no prompt for these; the prompts follow EleutherAI/w2s's, except that
where it lists every choice before the candidate (HellaSwag, OpenBookQA, Social IQa) only the candidate is shown, as
in the reference formats of SciQ and CosmosQA.
"""

from __future__ import annotations

import random

from w2s.data.tasks.base import PARQUET_EXPORT, HFTask, one_candidate
from w2s.errors import W2SError


def _candidate(rng: random.Random, answers: list[str], correct: int) -> tuple[str, int]:
    """One candidate among `answers`, whose index `correct` is the right one."""
    return one_candidate(rng, answers[correct], [a for i, a in enumerate(answers) if i != correct])


def format_dream(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/dataset-org/dream: `answer` is the text of one of the three `choice`s."""
    if row["answer"] not in row["choice"]:
        raise W2SError(
            f"dataset dream: row id {row['id']}: answer {row['answer']!r} is not one of {row['choice']}"
        )
    answer, label = _candidate(rng, row["choice"], row["choice"].index(row["answer"]))
    dialogue = "\n".join(row["dialogue"])
    return f"{dialogue}\n\nQ: {row['question']} A: {answer}", label


def format_hellaswag(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/Rowan/hellaswag: `label` is the index of the right ending, as a string."""
    ending, label = _candidate(rng, row["endings"], int(row["label"]))
    return f'Context:\n{row["ctx"]}\n\nQ: Is "{ending}" the best continuation?', label


def format_openbookqa(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/allenai/openbookqa: `answerKey` is the letter of the right choice in
    `choices.label`; both examples show the choice's text (EleutherAI/w2s shows the letter for label 1 only)."""
    choices = row["choices"]
    answer, label = _candidate(rng, choices["text"], choices["label"].index(row["answerKey"]))
    return f"Q: {row['question_stem']} A: {answer}", label


def format_quail(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/textmachinelab/quail: `correct_answer_id` indexes `answers`."""
    answer, label = _candidate(rng, row["answers"], row["correct_answer_id"])
    return (
        f'Passage:\n\n{row["context"]}\n\nQ: "{row["question"]}" Is the answer "{answer}"?',
        label,
    )


def format_piqa(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/ybisk/piqa: `label` 0 means `sol1` is right, 1 means `sol2`."""
    solution, label = _candidate(rng, [row["sol1"], row["sol2"]], row["label"])
    return f"Q: {row['goal']} A: {solution}", label


def format_quartz(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/allenai/quartz: `answerKey` is the letter of the right choice in
    `choices.label`."""
    choices = row["choices"]
    answer, label = _candidate(rng, choices["text"], choices["label"].index(row["answerKey"]))
    return f'Passage:\n{row["para"]}\n\nQ: "{row["question"]}" Is the answer "{answer}"?', label


def format_social_i_qa(row: dict, rng: random.Random) -> tuple[str, int]:
    """https://huggingface.co/datasets/allenai/social_i_qa: `label` is "1", "2" or "3" for answerA, B or C."""
    answers = [row["answerA"], row["answerB"], row["answerC"]]
    answer, label = _candidate(rng, answers, int(row["label"]) - 1)
    return (
        f'Context:\n{row["context"]}\n\nQuestion: "{row["question"]}"\n\nIs the answer "{answer}"?',
        label,
    )


def hellaswag_source(row: dict) -> str:
    """Where the context comes from: "activitynet" (video captions) or "wikihow" (`source_id` "wikihow~12345")."""
    return row["source_id"].split("~")[0]


TASKS = {
    # Main is a loading script; the hub's parquet export is read instead. All three splits are labelled.
    # Where several questions share one passage (a dialogue, a text, a video), the passage is the item: a test
    # question must not be about a passage the models trained on.
    "dream": HFTask(
        "dataset-org/dream",
        "https://huggingface.co/datasets/dataset-org/dream",
        ("dialogue", "question", "choice", "answer"),
        {"dialogue_question_answer": format_dream},
        revision=PARQUET_EXPORT,
        splits=("train", "validation", "test"),
        item_columns=("dialogue_id",),
    ),
    # The test split hides its labels as "". Main is a loading script (its conversion to parquet on main has not
    # landed): the export is read.
    "hellaswag": HFTask(
        "Rowan/hellaswag",
        "https://huggingface.co/datasets/Rowan/hellaswag",
        ("ctx", "endings", "source_id", "label"),
        {"context_continuation": format_hellaswag},
        revision=PARQUET_EXPORT,
        splits=("train", "validation"),
        label_column="label",
        labels=("0", "1", "2", "3"),
        unlabelled="",
        group=hellaswag_source,
        item_columns=("source_id",),
    ),
    "openbookqa": HFTask(
        "allenai/openbookqa",
        "https://huggingface.co/datasets/allenai/openbookqa",
        ("question_stem", "choices", "answerKey"),
        {"qa": format_openbookqa},
        subset="main",
        splits=("train", "validation", "test"),
        label_column="answerKey",
        labels=("A", "B", "C", "D"),
    ),
    # The challenge split (556 adversarial questions) is left to `options.splits`.
    "quail": HFTask(
        "textmachinelab/quail",
        "https://huggingface.co/datasets/textmachinelab/quail",
        ("context", "question", "question_type", "answers", "correct_answer_id"),
        {"passage_question_answer": format_quail},
        splits=("train", "validation"),
        label_column="correct_answer_id",
        labels=(0, 1, 2, 3),
        group=lambda row: row["question_type"],
        item_columns=("context_id",),
    ),
    # Main is a loading script; the hub's parquet export is read instead. The test split hides its labels as -1.
    "piqa": HFTask(
        "ybisk/piqa",
        "https://huggingface.co/datasets/ybisk/piqa",
        ("goal", "sol1", "sol2", "label"),
        {"qa": format_piqa},
        revision=PARQUET_EXPORT,
        splits=("train", "validation"),
        label_column="label",
        labels=(0, 1),
        unlabelled=-1,
    ),
    "quartz": HFTask(
        "allenai/quartz",
        "https://huggingface.co/datasets/allenai/quartz",
        ("para", "question", "choices", "answerKey"),
        {"passage_question_answer": format_quartz},
        splits=("train", "validation", "test"),
        label_column="answerKey",
        labels=("A", "B"),
        item_columns=("para_id",),
    ),
    # allenai/social_i_qa is a loading script; lighteval/siqa (what lm-evaluation-harness loads) is a parquet copy
    # with the same schema and splits. Neither holds the test split.
    "social_i_qa": HFTask(
        "lighteval/siqa",
        "https://huggingface.co/datasets/allenai/social_i_qa",
        ("context", "question", "answerA", "answerB", "answerC", "label"),
        {"context_question_answer": format_social_i_qa},
        splits=("train", "validation"),
        label_column="label",
        labels=("1", "2", "3"),
    ),
}
