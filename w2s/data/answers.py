"""Generative tasks: a prompt whose label is an answer the model writes (a world's value, a chess puzzle's first
move), rather than a class.

A generative dataset's split files hold the prompt (`text`), the true `answer`, `label` 1 (the answer column is the
truth: every split file has a label column) and `group`. Its labels and predictions files
(w2s.records.predictions.ANSWER_COLUMNS) hold the answer a model generated (`generated`), its log-probability,
whether a stop string ended it, and `correct` (exact match after trimming whitespace). How an answer is written
(`prefix`, `stop`) and how long it may run (`max_new_tokens`) are the task's answer format, which every job that
trains on or generates answers receives in its params.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class AnswerFormat:
    """How an answer is written after its prompt: `prefix` (e.g. a space) then the answer, ended by `stop` (in
    training the model learns to write both; in generation a stop ends the answer and is not part of it) or by
    `max_new_tokens` running out. Answers in the files are trimmed of whitespace."""

    stop: str
    max_new_tokens: int
    prefix: str = ""
    legal_moves: bool = (
        False  # answers are chess moves: each answer's legality in its position is recorded
    )
    nim_moves: bool = False  # answers are Nim moves, whose legality is recorded too
    any_mate: bool = (
        False  # a chess answer that mates where the true answer mates is right too (mates in one)
    )

    def params(self) -> dict:
        """The jobs' params (a setting left at its default is left out, so adding one moves no older params)."""
        return {
            k: v for k, v in asdict(self).items() if k in ("stop", "max_new_tokens", "prefix") or v
        }


def is_generative(entry: dict) -> bool:
    """Whether a dataset entry of the config asks for generated answers."""
    if entry["kind"] == "lichess_puzzles":
        return True
    return entry["kind"] == "world" and entry.get("options", {}).get("format") == "question"


def answer_format(config: dict, dataset: str) -> AnswerFormat | None:
    """A dataset's answer format (None for a classification dataset): a world question's answer is its value's
    digits (one token each), ended by "." (a Nim position's: its move, "c2."); a chess puzzle's (a chess world's, or
    the hub's lichess_puzzles) is a move in SAN after a space, ended by a space (a SAN move has at most 7
    characters)."""
    entry = config["datasets"][dataset]
    if not is_generative(entry):
        return None
    if (
        entry["kind"] == "lichess_puzzles"
    ):  # as a chess world's, in whatever tokens the model's tokenizer has
        any_mate = bool(entry.get("options", {}).get("accept_any_mate", False))
        return AnswerFormat(
            " ", entry.get("max_new_tokens", 10), prefix=" ", legal_moves=True, any_mate=any_mate
        )
    world = config["worlds"][entry["options"]["world"]]
    if world["type"] == "chess":  # " Qxd5" then the space before the next move's number
        return AnswerFormat(" ", entry.get("max_new_tokens", 10), prefix=" ", legal_moves=True)
    if world["type"] == "nim":  # "c2" then "."
        return AnswerFormat(".", entry.get("max_new_tokens", 3), nim_moves=True)
    digits = {"arithmetic": world["digits"] + 1, "folk_facts": 1}.get(
        world["type"], world["digits"]
    )
    return AnswerFormat(".", entry.get("max_new_tokens", digits + 1))
