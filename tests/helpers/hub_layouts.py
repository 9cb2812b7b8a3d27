"""The task repositories as the Hugging Face Hub lays them out, filled with the fixtures' rows, for the local hub.

Three layouts occur among the paper's tasks (checked against the repositories' file trees and commits):
- a loading script alone on main (or beside raw files, as hendrycks/ethics's `ethics.py` and `data/`), which
  `datasets` 4 and later refuses; the hub's parquet export on `refs/convert/parquet` holds the data, one config
  `default` laid out as `<original config>/<split>/0000.parquet`;
- parquet on main in a folder per config, `<config>/<split>-00000-of-00001.parquet`, named by the README's
  `configs:` (the hub's "Convert dataset to Parquet" commits, e.g. nyu-mll/glue, aps/super_glue, textmachinelab/quail);
- parquet pushed by `push_to_hub` under `data/<split>-00000-of-00001[-<hash>].parquet`, no configs (e.g.
  EleutherAI/twitter-sentiment, lighteval/siqa); Anthropic/hh-rlhf keeps gzipped jsonl in a folder per subset,
  stanfordnlp/SHP json lines in a folder per subreddit (`askculinary/train.json`, validation.json, test.json).

Each task's fixture rows are cut into as many contiguous parts as it loads splits, in order, so loading its splits
by hub id gives the fixture's rows in the fixture's order.
"""

from __future__ import annotations

import gzip
import io
import json
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from w2s.data.tasks import HF_TASKS


@dataclass(frozen=True)
class Layout:
    kind: str  # "script", "configs", "data", "jsonl_gz" or "json_folders"
    config: str = "default"  # the folder of the task's rows: a config on main, or in the export
    script: str = ""  # the loading script's file name, for "script"
    hidden: tuple[
        str, ...
    ] = ()  # hub splits the task does not load, written with the fixture's first rows
    suffix: str = ""  # a push_to_hub file name's hash part, for "data"


LAYOUTS = {
    "sciq": Layout("data", hidden=("validation", "test")),
    "boolq": Layout("data", hidden=("validation",)),
    "cosmos_qa": Layout("script", script="cosmos_qa.py", hidden=("test",)),
    "amazon_polarity": Layout("configs", "amazon_polarity", hidden=("test",)),
    "anthropic_hh": Layout("jsonl_gz", hidden=("test",)),
    "anthropic_hh_comparisons": Layout("jsonl_gz", hidden=("test",)),
    "shp": Layout("json_folders", hidden=("validation", "test")),
    "dream": Layout("script", "plain_text", script="dream.py"),
    "hellaswag": Layout("script", script="hellaswag.py", hidden=("test",)),
    "openbookqa": Layout("configs", "main"),
    "quail": Layout("configs", "quail", hidden=("challenge",)),
    "piqa": Layout("script", "plain_text", script="piqa.py", hidden=("test",)),
    "quartz": Layout("data"),
    "social_i_qa": Layout("data", suffix="-da17dfc1120ed1ee"),
    "glue_cola": Layout("configs", "cola", hidden=("test",)),
    "glue_sst2": Layout("configs", "sst2", hidden=("test",)),
    "paws": Layout("configs", "labeled_final"),
    "superglue_wic": Layout("configs", "wic", hidden=("test",)),
    "anli_r2": Layout("configs", "plain_text", hidden=("train_r1", "dev_r1")),
    "twitter_sentiment": Layout("data", hidden=("test",)),
    "ethics_justice": Layout("script", "justice", script="ethics.py", hidden=("test",)),
    "ethics_deontology": Layout("script", "deontology", script="ethics.py", hidden=("test",)),
    "ethics_virtue": Layout("script", "virtue", script="ethics.py", hidden=("test",)),
    "ethics_utilitarianism": Layout(
        "script", "utilitarianism", script="ethics.py", hidden=("test",)
    ),
    "mc_taco": Layout("script", "plain_text", script="mc_taco.py"),
    "superglue_multirc": Layout("configs", "multirc", hidden=("test",)),
}
EXPORT = "refs/convert/parquet"


def parquet(rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(rows).write_parquet(buffer)
    return buffer.getvalue()


def jsonl_gz(rows: list[dict]) -> bytes:
    return gzip.compress("".join(json.dumps(row) + "\n" for row in rows).encode(), mtime=0)


def split_rows(
    rows: list[dict], splits: tuple[str, ...], hidden: tuple[str, ...]
) -> dict[str, list[dict]]:
    """Contiguous parts, one per loaded split; a hidden split gets the first two rows (its labels unused)."""
    size = -(-len(rows) // len(splits))
    parts = {split: rows[i * size : (i + 1) * size] for i, split in enumerate(splits)}
    return {**parts, **{split: rows[:2] for split in hidden}}


def readme(configs: dict[str, list[str]]) -> str:
    """A dataset card whose YAML names each config's files per split, as the hub's parquet conversion writes it."""
    lines = ["---", "configs:"]
    for config, splits in configs.items():
        lines += [f"- config_name: {config}", "  data_files:"]
        lines += [f"  - split: {split}\n    path: {config}/{split}-*" for split in splits]
    return "\n".join([*lines, "---", "", "# A dataset laid out as the hub has it", ""])


def task_repositories(
    rows_of: dict[str, list[dict]],
) -> dict[tuple[str, str], dict[str, bytes | str]]:
    """(hub id, revision) -> files, for every task in `rows_of` (task -> its fixture rows)."""
    repos: dict[tuple[str, str], dict[str, bytes | str]] = defaultdict(dict)
    configs: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for task_name, rows in rows_of.items():
        task, layout = HF_TASKS[task_name], LAYOUTS[task_name]
        parts = split_rows(rows, task.splits, layout.hidden)
        main = repos[(task.source, "main")]
        if layout.kind == "script":
            main[layout.script] = "# a loading script: datasets 4 and later refuses to run it\n"
            main["README.md"] = "---\nlicense: mit\n---\n# A dataset with a loading script\n"
            if task.source == "hendrycks/ethics":  # its raw CSV files sit beside the script
                main[f"data/{layout.config}/train.csv"] = (
                    "label,scenario\n1,a raw row the script would read\n"
                )
            export = repos[(task.source, EXPORT)]
            export[".gitattributes"] = "*.parquet filter=lfs diff=lfs merge=lfs -text\n"
            for split, part in parts.items():
                export[f"{layout.config}/{split}/0000.parquet"] = parquet(part)
        elif layout.kind == "configs":
            for split, part in parts.items():
                main[f"{layout.config}/{split}-00000-of-00001.parquet"] = parquet(part)
            configs[task.source][layout.config] = list(parts)
        elif layout.kind == "data":
            for split, part in parts.items():
                main[f"data/{split}-00000-of-00001{layout.suffix}.parquet"] = parquet(part)
        elif layout.kind == "json_folders":  # SHP: a folder per subreddit (the rows' domain)
            for split, part in parts.items():
                for domain in dict.fromkeys(row["domain"] for row in part):
                    mine = [row for row in part if row["domain"] == domain]
                    main[f"{domain}/{split}.json"] = "".join(json.dumps(r) + "\n" for r in mine)
        else:  # hh-rlhf: a folder per subset, each with train and test files; the default config reads them all
            half = -(-len(parts["train"]) // 2)
            for folder, part in (
                ("harmless-base", parts["train"][:half]),
                ("helpful-base", parts["train"][half:]),
            ):
                main[f"{folder}/train.jsonl.gz"] = jsonl_gz(part)
                main[f"{folder}/test.jsonl.gz"] = jsonl_gz(parts["test"])
            main["red-team-attempts/red_team_attempts.jsonl.gz"] = jsonl_gz(
                [{"transcript": "not a comparison"}]
            )
    for source, config_splits in configs.items():
        repos[(source, "main")]["README.md"] = readme(config_splits)
    return dict(repos)
