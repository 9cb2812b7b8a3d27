"""Tasks whose source items span several rows (one row per candidate answer): MC-TACO, MultiRC.

Each row is one (context, question, candidate answer) with a yes/no label; one question has several candidates,
right and wrong, and one context (a sentence, a paragraph) several questions. The context is the item
(`item_columns`): all its questions and candidates stay in one split, so nothing is trained on and tested on. It is
named by its text, not by MultiRC's `idx` numbers, which restart in every hub split.
"""

from __future__ import annotations

import random
import re

from w2s.data.tasks.base import HFTask

MC_TACO_CARD = "https://huggingface.co/datasets/CogComp/mc_taco"
MULTIRC_CARD = "https://huggingface.co/datasets/aps/super_glue"
# The card's ClassLabel names for `category`, in their index order.
MC_TACO_CATEGORIES = (
    "Event Duration",
    "Event Ordering",
    "Frequency",
    "Typical Time",
    "Stationarity",
)


# The paper gives no prompts for these; both follow EleutherAI/w2s's wording.
def format_mc_taco(row: dict, rng: random.Random) -> tuple[str, int]:
    """MC-TACO (https://huggingface.co/datasets/CogComp/mc_taco): is the candidate `answer` plausible for the
    temporal `question` about `sentence`? `label` is the card's ClassLabel no/yes, 0/1."""
    return (
        f"{row['sentence']}\n\nGiven the above, {row['question']} Is the answer {row['answer']}?",
        int(row["label"]),
    )


# MultiRC's paragraphs keep the markup of the annotation page: each sentence as "<b>Sent 1: </b>...<br>".
MULTIRC_SENTENCE = re.compile(r"<b>Sent \d+: </b>(.*?)<br>", re.S)


def multirc_passage(paragraph: str) -> str:
    """The paragraph as plain prose, its sentences joined by spaces: the numbering and tags are the annotation page's,
    not the text's (a question never refers to a sentence by number), and a model reads prose better than HTML. A
    paragraph without the markup is kept as it is."""
    sentences = [s.strip() for s in MULTIRC_SENTENCE.findall(paragraph)]
    return " ".join(sentences) if sentences else paragraph.strip()


def format_multirc(row: dict, rng: random.Random) -> tuple[str, int]:
    """MultiRC (https://huggingface.co/datasets/aps/super_glue, subset multirc): is `answer` a correct answer to
    `question` about `paragraph`? `label` is the card's ClassLabel False/True, 0/1."""
    passage = multirc_passage(row["paragraph"])
    return f'Passage:\n\n{passage}\n\nQ: "{row["question"]}" Is the answer "{row["answer"]}"?', int(
        row["label"]
    )


TASKS = {
    # The hub has no train split; both splits it has are labelled. Its main branch is a loading script, which
    # datasets >= 4 refuses: the parquet export is read instead, whose one config ("plain_text") loads as default.
    "mc_taco": HFTask(
        "CogComp/mc_taco",
        MC_TACO_CARD,
        ("sentence", "question", "answer", "category", "label"),
        {"sentence_question_answer": format_mc_taco},
        revision="refs/convert/parquet",
        splits=("validation", "test"),
        label_column="label",
        labels=(0, 1),
        item_columns=("sentence",),
        group=lambda row: MC_TACO_CATEGORIES[row["category"]],
    ),
    # The test split's labels are hidden, given as -1.
    "superglue_multirc": HFTask(
        "aps/super_glue",
        MULTIRC_CARD,
        ("paragraph", "question", "answer", "label"),
        {"passage_question_answer": format_multirc},
        subset="multirc",
        splits=("train", "validation"),
        label_column="label",
        labels=(0, 1),
        unlabelled=-1,
        item_columns=("paragraph",),
    ),
}
