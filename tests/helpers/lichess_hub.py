"""The two hub repositories of the chess puzzles (w2s.data.lichess), laid out as the real ones are at the commits
w2s pins, filled with puzzles of an offline chess world (real positions, Stockfish's answers).

- EleutherAI/lichess-puzzles: `data/train-0000{0,1}-of-00002.parquet` (id, ctx, target) and a card whose YAML names
  them as split train, as its commit 787a704 has them;
- Lichess/chess-puzzles: `data/train-*.parquet` (PuzzleId, FEN, Moves, Rating, RatingDeviation, Popularity,
  NbPlays, Themes, GameUrl, OpeningTags; its card at 950f927), holding puzzles the other does not (the Lichess
  database has more) and missing two it does (puzzles Lichess has since removed).
One puzzle is added by hand: a mate in one with two mating moves (Lichess accepts either), to score with
accept_any_mate.
"""

from __future__ import annotations

import polars as pl
from hub_layouts import parquet

from w2s.data.lichess import PUZZLES, RATINGS
from w2s.data.world import TASK

# Black to move mates by Qxf2# or Bxf2#; the target is one of them.
TWO_MATES = {
    "id": "2mates",
    "ctx": "1. Nf3 1... e5 2. Nxe5 2... c6 3. Nxd7 3... Qc7 4. g4 4... Bc5 5. Nxb8 5... b5 6. Nxc6 6... Qe7 "
    "7. Nd8 7... Qh4 8. Nxf7 8...",
    "target": " Qxf2#",
    "FEN": "r1bNk1nr/p4ppp/8/1pb5/6Pq/8/PPPPPP1P/RNBQKB1R w KQkq - 3 8",
    "Moves": "d8f7 h4f2",
    "Themes": "mate mateIn1 oneMove",
}
UNRATED = 2  # puzzles of the first repository the second does not list


def card(frame: pl.DataFrame) -> str:
    """The card's YAML as the hub has it: each feature's dtype (which `datasets` reads the files as), the split."""
    dtypes = {pl.String: "string", pl.Int64: "int64"}
    lines = ["---", "dataset_info:", "  features:"]
    lines += [f"  - name: {c}\n    dtype: {dtypes[t]}" for c, t in frame.schema.items()]
    lines += [
        "  splits:",
        "  - name: train",
        "    num_bytes: 1000",
        f"    num_examples: {frame.height}",
    ]
    lines += ["configs:", "- config_name: default", "  data_files:", "  - split: train"]
    lines += ["    path: data/train-*", "---", "", "# Chess puzzles laid out as on the hub", ""]
    return "\n".join(lines)


def two_files(frame: pl.DataFrame) -> dict[str, bytes]:
    half = frame.height // 2
    return {
        "data/train-00000-of-00002.parquet": parquet(frame.head(half).to_dicts()),
        "data/train-00001-of-00002.parquet": parquet(frame.slice(half).to_dicts()),
    }


def puzzle_tables(world_dir) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the EleutherAI rows, the Lichess rows): the world's puzzles and the hand-made one; ratings 500, 600, ...
    in the world's order, so the first puzzles are the easy ones."""
    task = pl.concat([pl.read_parquet(world_dir / TASK), pl.DataFrame([TWO_MATES])])
    task = task.with_columns(id=pl.format("p{}", pl.int_range(pl.len()).cast(pl.String)))
    puzzles = task.select("id", "ctx", "target")
    ratings = task.slice(UNRATED).select(
        PuzzleId="id",
        FEN="FEN",
        Moves="Moves",
        Rating=500 + 100 * pl.int_range(UNRATED, task.height, dtype=pl.Int64),
        RatingDeviation=pl.lit(75, dtype=pl.Int64),
        Popularity=pl.lit(90, dtype=pl.Int64),
        NbPlays=pl.lit(1000, dtype=pl.Int64),
        Themes="Themes",
        GameUrl=pl.format("https://lichess.org/{}", "id"),
        OpeningTags=pl.lit(""),
    )
    extra = ratings.head(3).with_columns(PuzzleId=pl.format("x{}", "PuzzleId"))
    return puzzles, pl.concat([ratings, extra])


def add_lichess_repositories(hub, world_dir) -> tuple[pl.DataFrame, pl.DataFrame]:
    puzzles, ratings = puzzle_tables(world_dir)
    for ref, frame in ((PUZZLES, puzzles), (RATINGS, ratings)):
        files = {"README.md": card(frame), **two_files(frame)}
        files[".gitattributes"] = "*.parquet filter=lfs diff=lfs merge=lfs -text\n"
        hub.add(ref.repo_id, files, "main", sha=ref.revision)
    return puzzles, ratings
