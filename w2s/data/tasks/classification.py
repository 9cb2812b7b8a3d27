"""Single-text and sentence-pair classification tasks: GLUE CoLA and SST-2, PAWS, SuperGLUE WiC, ANLI round 2 and
Twitter sentiment. Each row is one example with the row's own label. Schemas from the dataset cards:
https://huggingface.co/datasets/nyu-mll/glue, https://huggingface.co/datasets/google-research-datasets/paws,
https://huggingface.co/datasets/aps/super_glue, https://huggingface.co/datasets/facebook/anli,
https://huggingface.co/datasets/EleutherAI/twitter-sentiment.

The paper names these datasets but gives no prompts; where it is silent the formats follow the prompt conventions of
EleutherAI/w2s (w2s/ds_registry.py), the most used public re-implementation.
"""

from __future__ import annotations

import random

from w2s.data.tasks.base import HFTask

GLUE = "https://huggingface.co/datasets/nyu-mll/glue"
PAWS = "https://huggingface.co/datasets/google-research-datasets/paws"
SUPER_GLUE = "https://huggingface.co/datasets/aps/super_glue"
ANLI = "https://huggingface.co/datasets/facebook/anli"
TWITTER = "https://huggingface.co/datasets/EleutherAI/twitter-sentiment"


def format_sentence(row: dict, rng: random.Random) -> tuple[str, int]:
    """GLUE CoLA (label 1: acceptable) and SST-2 (label 1: positive), https://huggingface.co/datasets/nyu-mll/glue:
    the sentence alone, as EleutherAI/w2s does."""
    return row["sentence"], int(row["label"])


def format_paws(row: dict, rng: random.Random) -> tuple[str, int]:
    """PAWS labeled_final, https://huggingface.co/datasets/google-research-datasets/paws: label 1 when the two
    sentences are paraphrases. Prompt after EleutherAI/w2s."""
    text = f"Sent 1: {row['sentence1']}\nSent 2: {row['sentence2']}\n\nQ: Are these sentences semantically equivalent?"
    return text, int(row["label"])


def format_wic(row: dict, rng: random.Random) -> tuple[str, int]:
    """SuperGLUE WiC, https://huggingface.co/datasets/aps/super_glue: label 1 when the word has the same sense in
    both sentences. Prompt after EleutherAI/w2s."""
    text = (
        f"Sentence 1:\n{row['sentence1']}\n\nSentence 2:\n{row['sentence2']}\n\n"
        f'Q: Does "{row["word"]}" have the same meaning in the above sentences?'
    )
    return text, int(row["label"])


def format_anli(row: dict, rng: random.Random) -> tuple[str, int]:
    """ANLI, https://huggingface.co/datasets/facebook/anli: label 1 for entailment (class 0), label 0 for neutral (1)
    and contradiction (2). The paper does not say how it made the three classes binary; this is EleutherAI/w2s's
    entailment vs not-entailment, so no row is dropped (the splits balance the classes by sampling)."""
    text = f"Premise: {row['premise']}\nHypothesis: {row['hypothesis']}\n\nDoes the premise entail the hypothesis?"
    return text, int(row["label"] == 0)


def format_tweet(row: dict, rng: random.Random) -> tuple[str, int]:
    """Twitter sentiment, https://huggingface.co/datasets/EleutherAI/twitter-sentiment: the tweet alone, label 1
    positive, 0 negative."""
    return row["text"], int(row["label"])


TASKS = {
    # GLUE's test splits hide their labels as -1: only train and validation are loaded, and -1 rows are dropped.
    "glue_cola": HFTask(
        "nyu-mll/glue",
        GLUE,
        ("sentence", "label"),
        {"sentence": format_sentence},
        subset="cola",
        splits=("train", "validation"),
        label_column="label",
        labels=(0, 1),
        unlabelled=-1,
    ),
    "glue_sst2": HFTask(
        "nyu-mll/glue",
        GLUE,
        ("sentence", "label"),
        {"sentence": format_sentence},
        subset="sst2",
        splits=("train", "validation"),
        label_column="label",
        labels=(0, 1),
        unlabelled=-1,
    ),
    # labeled_final: all three splits carry labels.
    "paws": HFTask(
        "google-research-datasets/paws",
        PAWS,
        ("sentence1", "sentence2", "label"),
        {"sentence_pair": format_paws},
        subset="labeled_final",
        splits=("train", "validation", "test"),
        label_column="label",
        labels=(0, 1),
    ),
    "superglue_wic": HFTask(
        "aps/super_glue",
        SUPER_GLUE,
        ("word", "sentence1", "sentence2", "label"),
        {"word_sentence_pair": format_wic},
        subset="wic",
        splits=("train", "validation"),
        label_column="label",
        labels=(0, 1),
        unlabelled=-1,
    ),
    # Round 2 only; all its splits are labelled. The paper's "FLAN ANLI R2" is this data in FLAN's collection.
    "anli_r2": HFTask(
        "facebook/anli",
        ANLI,
        ("premise", "hypothesis", "label"),
        {"premise_hypothesis": format_anli},
        subset="plain_text",
        splits=("train_r2", "dev_r2", "test_r2"),
        label_column="label",
        labels=(0, 1, 2),
    ),
    # The dataset EleutherAI/w2s uses for the paper's Twitter Sentiment (Sentiment140 tweets, labels 0/1). Train
    # only: the card does not document the test split's labels.
    "twitter_sentiment": HFTask(
        "EleutherAI/twitter-sentiment",
        TWITTER,
        ("text", "label"),
        {"text": format_tweet},
        label_column="label",
        labels=(0, 1),
    ),
}
