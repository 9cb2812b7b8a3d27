"""The paper's chess puzzles from the Hugging Face Hub (dataset kind `lichess_puzzles`), a generative task.

Rows come from EleutherAI/lichess-puzzles (its card, at the pinned commit: 1,479,018 rows, split train only; `id`;
`ctx` a real Lichess game's SAN transcript with every half-move numbered, up to the puzzle position, the
opponent's set-up move included; `target` the best next move in SAN with a leading space; "this format matches
that used in Weak-to-strong generalization"). Each puzzle's `Rating` (Glicko-2) and `Themes` are joined on
`id` = `PuzzleId` from Lichess/chess-puzzles (updated monthly, so pinned too; its card: "Any move that checkmates
should win the puzzle" for mates in one, which `accept_any_mate` scores). Puzzles the pinned Lichess database no
longer holds are left out and counted.

Groups are rating bands. With `train_max_rating` (the paper's easy-to-hard variant: 900 or 1200) only puzzles rated
at most that are drawn into the training and validation splits; the test split is drawn from all puzzles.
"""

from __future__ import annotations

import random

import polars as pl

from w2s.data.chess_world import board_of
from w2s.data.sources import Source
from w2s.errors import W2SError
from w2s.hub import HubRef, local_copy, looks_like_local_path

# huggingface.co/datasets/EleutherAI/lichess-puzzles, commit 787a704 ("wrote README", the card quoted above)
PUZZLES = HubRef(
    "EleutherAI/lichess-puzzles", "787a704697824359fceb7aca8be2ea23dce2f463", "dataset"
)
# huggingface.co/datasets/Lichess/chess-puzzles, commit 950f927 (its card: 4,062,423 puzzles, split train)
RATINGS = HubRef("Lichess/chess-puzzles", "950f927767db79497dab436d873d7c743aca923d", "dataset")
PUZZLE_COLUMNS = ("id", "ctx", "target")
RATING_COLUMNS = ("PuzzleId", "Rating", "Themes")
BANDS = (
    900,
    1200,
    1500,
    1800,
    2100,
    2400,
)  # the rating bands' lower edges above the first (for groups)
OPTIONS = (
    "source",
    "revision",
    "ratings_source",
    "ratings_revision",
    "train_max_rating",
    "accept_any_mate",
)


def references(options: dict) -> list[HubRef]:
    """The hub repositories the puzzles and their ratings come from (a local folder is none)."""
    refs = []
    for default, key in ((PUZZLES, "source"), (RATINGS, "ratings_source")):
        source = options.get(key, default.repo_id)
        if not looks_like_local_path(source):
            own = source == default.repo_id
            revision = options.get(
                key.replace("source", "revision"), default.revision if own else "main"
            )
            refs.append(HubRef(source, revision, "dataset"))
    return refs


def rating_band(rating: int) -> str:
    """A puzzle's group: the band of ratings it falls in ("rating <900", "rating 900-1199", ..., "rating >=2400")."""
    if rating < BANDS[0]:
        return f"rating <{BANDS[0]}"
    for low, high in zip(BANDS, BANDS[1:]):
        if rating < high:
            return f"rating {low}-{high - 1}"
    return f"rating >={BANDS[-1]}"


def load_rows(location: HubRef | str, columns: tuple[str, ...], what: str) -> pl.DataFrame:
    """The train split of a hub dataset (read from its snapshot in the cache, as the other hub tasks are) or of a
    local dataset folder, as a polars frame of `columns`."""
    import datasets  # slow import; only the data stage needs it

    path = str(local_copy(location)) if isinstance(location, HubRef) else location
    try:
        rows = datasets.load_dataset(path, split="train")
    except Exception as exc:  # a missing folder, config or split: all end here
        raise W2SError(f"{what}: could not load {location} split train: {exc}") from exc
    missing = [c for c in columns if c not in rows.column_names]
    if missing:
        raise W2SError(
            f"{what} ({location}): missing column(s) {missing}; found {rows.column_names}"
        )
    return pl.from_arrow(rows.select_columns(list(columns)).with_format("arrow")[:])


class LichessPuzzleSource(Source):
    """Puzzle i: the game so far (`ctx`, the prompt) and its best move (`target`, trimmed), grouped by rating."""

    answers = True

    def __init__(self, dataset: str, options: dict):
        refs = {ref.repo_id: ref for ref in references(options)}
        puzzle_source = options.get("source", PUZZLES.repo_id)
        rating_source = options.get("ratings_source", RATINGS.repo_id)
        self.name = f"lichess_puzzles {puzzle_source} with ratings from {rating_source}"
        puzzles = load_rows(
            refs.get(puzzle_source, puzzle_source), PUZZLE_COLUMNS, f"dataset {dataset}"
        )
        ratings = load_rows(
            refs.get(rating_source, rating_source), RATING_COLUMNS, f"dataset {dataset} (ratings)"
        )
        joined = puzzles.join(
            ratings, left_on="id", right_on="PuzzleId", how="inner", maintain_order="left"
        )
        if joined.height > puzzles.height:
            raise W2SError(
                f"dataset {dataset}: {rating_source} lists some PuzzleId more than once; expected one row a puzzle"
            )
        unrated = puzzles.height - joined.height
        self.dropped = {"puzzles_without_rating": unrated} if unrated else {}
        if unrated:
            print(
                f"dataset {dataset}: leaving out {unrated} of {puzzles.height} puzzles that {rating_source} "
                "does not list (no rating to group or filter them by)",
                flush=True,
            )
        self.prompts = joined["ctx"].to_list()
        self.targets = joined["target"].str.strip_chars().to_list()
        self.ratings = joined["Rating"].to_list()
        self.max_train_rating = options.get("train_max_rating")

    def __len__(self) -> int:
        return len(self.prompts)

    def example(self, index: int, rng: random.Random) -> tuple[str, str]:
        return self.prompts[index], self.targets[index]

    def group(self, index: int) -> str:
        return rating_band(self.ratings[index])

    def test_only(self, index: int) -> bool:
        return self.max_train_rating is not None and self.ratings[index] > self.max_train_rating

    def unusable(self, index: int) -> str | None:
        """A puzzle whose transcript does not replay (no position to answer in) or whose target is not a legal move
        there (no answer to learn or score): left out and counted as the splits draw it, not found after a
        training run has read it."""
        try:
            board = board_of(self.prompts[index])
        except W2SError:
            return "malformed_transcripts"
        try:
            board.parse_san(self.targets[index])
        except ValueError:
            return "illegal_targets"
        return None
