"""Comparison sets for reward models (w2s.data.pairs): Anthropic's HH-RLHF transcripts split into a shared dialogue
and two final replies, and Stanford's SHP (Reddit posts and two comments, the more upvoted one preferred)."""

from __future__ import annotations

import random

from w2s.data.pairs import ordered
from w2s.data.tasks.base import HFTask

ASSISTANT_TURN = "\n\nAssistant:"


def shared_length(a: str, b: str) -> int:
    """The length of the longest common prefix, by bisection on string comparisons (hh-rlhf has 160k transcript
    pairs of a few thousand characters: a character loop in Python would take most of a split job)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def split_transcripts(chosen: str, rejected: str) -> tuple[str, str, str] | None:
    """(prefix, chosen completion, rejected completion): the two transcripts' longest common prefix, cut back to
    the end of its last assistant turn marker, so the prefix is a dialogue that asks the assistant to reply and
    each completion is the rest of its transcript (prefix + completion is the transcript itself). None where the
    transcripts share no assistant turn."""
    shared = shared_length(chosen, rejected)
    turn = chosen.rfind(ASSISTANT_TURN, 0, shared)  # the marker within the shared part
    if turn < 0:
        return None
    end = turn + len(ASSISTANT_TURN)
    return chosen[:end], chosen[end:], rejected[end:]


def hh_dropped(row: dict) -> str | None:
    """Rows a reward model cannot learn from: equal transcripts (ties), none shared, or an empty reply."""
    if row["chosen"] == row["rejected"]:
        return "ties"
    split = split_transcripts(row["chosen"], row["rejected"])
    if split is None:
        return "no_shared_turn"
    return "empty_completions" if not (split[1].strip() and split[2].strip()) else None


def format_hh_comparison(row: dict, rng: random.Random) -> tuple[tuple[str, str, str], int]:
    prefix, chosen, rejected = split_transcripts(row["chosen"], row["rejected"])
    return ordered(prefix, chosen, rejected, rng)


def shp_dropped(row: dict) -> str | None:
    """SHP's card promises a score ratio of at least 2; a pair of equal scores would carry no preference."""
    return "ties" if row["score_A"] == row["score_B"] else None


def format_shp(row: dict, rng: random.Random) -> tuple[tuple[str, str, str], int]:
    """The post, then a comment: "POST: ...\\n\\nCOMMENT:" and " <comment>"; `labels` 1 means comment A was
    preferred (the card)."""
    preferred, other = ("human_ref_A", "human_ref_B")[:: 1 if row["labels"] == 1 else -1]
    return ordered(
        f"POST: {row['history']}\n\nCOMMENT:", f" {row[preferred]}", f" {row[other]}", rng
    )


TASKS = {
    # The repository's folders (harmless-base, helpful-base, helpful-online, helpful-rejection-sampled) are chosen
    # with options.data_dir; without one every folder with chosen/rejected rows is read. Card:
    # https://huggingface.co/datasets/Anthropic/hh-rlhf (gzipped jsonl, `chosen` and `rejected` transcripts).
    "anthropic_hh_comparisons": HFTask(
        "Anthropic/hh-rlhf",
        "https://huggingface.co/datasets/Anthropic/hh-rlhf",
        ("chosen", "rejected"),
        {"transcript": format_hh_comparison},
        pairs=True,
        drop=hh_dropped,
    ),
    # One post has several comment pairs: its comparisons are drawn into one split. Card:
    # https://huggingface.co/datasets/stanfordnlp/SHP (labels: 1 if comment A is preferred; score_ratio >= 2).
    "shp": HFTask(
        "stanfordnlp/SHP",
        "https://huggingface.co/datasets/stanfordnlp/SHP",
        (
            "post_id",
            "domain",
            "history",
            "human_ref_A",
            "human_ref_B",
            "score_A",
            "score_B",
            "labels",
        ),
        {"post_comment": format_shp},
        label_column="labels",
        labels=(0, 1),
        item_columns=("post_id",),
        group=lambda row: row["domain"],
        pairs=True,
        drop=shp_dropped,
    ),
}
