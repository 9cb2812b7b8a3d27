"""Regenerate every published results table at one commit: each world's demo runs, then its tables in docs/.

    python bench/regenerate.py --root DIR [--only default,methods] [--list]

Each table is `bench/demo.py` on one config over its pretraining seeds, one seed at a time, into DIR/<table>/; a
seed whose run finished (its wall_s file is there) is not run again, so a regeneration stopped part way (a session's
end, a reboot) goes on where it stopped when the same command is given again. A seed's folder left unfinished is
emptied and run from the start, so that every wall time is a whole pipeline's. All of DIR's runs must come from one
commit: the command refuses a checkout with uncommitted changes, and a DIR begun at another commit. When a table's
seeds are all done its file is written from the kept runs (`--tables-from`) to DIR/docs/ under its name in docs/
(with its plots), and DIR/docs/regeneration_runs.md lists every table, its seeds done and their wall time; copy
DIR/docs/* into docs/ to publish them. Run it from a checkout of its own (a git worktree), not the one you edit, so
the commit stays fixed for the hours it takes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from stamp import commit

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Table:
    name: str
    config: str
    seeds: range
    out: str
    plots: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


# The published tables, the README's demos first; the longest (real chess) after the worlds that carry a finding.
TABLES = [
    Table(
        "default",
        "config.yaml",
        range(16),
        "docs/demo.md",
        plots=(
            "trajectories_folk_facts",
            "groups_folk_facts",
            "accuracy_folk_facts",
            "agreement_folk_facts",
            "pgr_logconf",
        ),
    ),
    Table("methods", "configs/methods.yaml", range(5), "docs/methods_results.md"),
    Table("reward_model", "configs/reward_model.yaml", range(5), "docs/reward_model_results.md"),
    Table("nim", "configs/nim.yaml", range(5), "docs/nim_results.md"),
    Table(
        "folk_questions", "configs/folk_questions.yaml", range(5), "docs/folk_questions_results.md"
    ),
    Table(
        "folk_questions_methods",
        "configs/folk_questions_methods.yaml",
        range(5),
        "docs/folk_questions_methods_results.md",
    ),
    Table("chess", "configs/chess.yaml", range(5), "docs/demo_chess.md"),
    Table("arithmetic", "configs/arithmetic.yaml", range(5), "docs/arithmetic.md"),
    Table("chains", "configs/chains.yaml", range(5), "docs/chains_results.md"),
    Table(
        "saturated_control",
        "configs/saturated_control.yaml",
        range(8),
        "docs/demo_saturated_control.md",
        plots=("trajectories_kb_facts", "groups_kb_facts", "accuracy_kb_facts", "pgr_logconf"),
    ),
    Table(
        "saturated_control_kernels",
        "configs/saturated_control.yaml",
        range(5),
        "docs/demo_saturated_control_kernels.md",
        env={"ATEN_CPU_CAPABILITY": "default"},
    ),
    Table("bf16", "configs/default_bf16.yaml", range(5), "docs/demo_bf16.md"),
    Table(
        "reward_model_saturated",
        "configs/reward_model_saturated.yaml",
        range(5),
        "docs/demo_reward_model_saturated.md",
    ),
    Table(
        "world_questions", "configs/world_questions.yaml", range(5), "docs/demo_world_questions.md"
    ),
    Table(
        "reward_model_unseen_format",
        "configs/reward_model_unseen_format.yaml",
        range(5),
        "docs/reward_model_unseen_format_results.md",
    ),
    Table(
        "reward_model_coded",
        "configs/reward_model_coded.yaml",
        range(5),
        "docs/reward_model_coded_results.md",
    ),
]


def seed_done(root: Path, table: Table, seed: int) -> bool:
    return (root / table.name / f"pretrain_seed{seed}" / "wall_s").exists()


def demo(table: Table, *arguments: str) -> None:
    env = {**os.environ, **table.env}
    command = [
        sys.executable,
        str(REPO / "bench/demo.py"),
        "--configfile",
        str(REPO / table.config),
        "--cores",
        "all",
    ]
    subprocess.run([*command, *arguments], check=True, env=env, cwd=REPO, stdout=subprocess.DEVNULL)


def regenerate(root: Path, table: Table, made_at: str) -> None:
    for seed in table.seeds:
        if seed_done(root, table, seed):
            continue
        folder = root / table.name / f"pretrain_seed{seed}"
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        print(f"{time.strftime('%H:%M:%S')} {table.name}: pretraining seed {seed} ...", flush=True)
        demo(table, "--pretrain-seeds", str(seed), "--keep", str(root / table.name))
        print(
            f"{time.strftime('%H:%M:%S')} {table.name}: seed {seed} took {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    seeds = ",".join(str(seed) for seed in table.seeds)
    arguments = [
        "--pretrain-seeds",
        seeds,
        "--tables-from",
        str(root / table.name),
        "--runs-made-at",
        made_at,
    ]
    out = root / table.out
    out.parent.mkdir(exist_ok=True)
    demo(
        table,
        *arguments,
        "--out",
        str(out),
        *(["--plots", ",".join(table.plots)] if table.plots else []),
    )
    print(f"{time.strftime('%H:%M:%S')} {table.name}: tables written to {out}", flush=True)


def manifest(root: Path, made_at: str) -> str:
    lines = [
        "# Published tables, regenerated at one commit",
        f"Written by `python bench/regenerate.py`; every run below was made at commit `{made_at}` (bench/demo.py, one "
        "pretraining seed per call, its wall time the whole pipeline from an empty folder).",
        "",
        "| table | config | pretraining seeds done | wall time (s) | file |",
        "|---|---|---|---|---|",
    ]
    for table in TABLES:
        walls = [
            float((root / table.name / f"pretrain_seed{seed}" / "wall_s").read_text())
            for seed in table.seeds
            if seed_done(root, table, seed)
        ]
        lines.append(
            f"| {table.name} | `{table.config}` | {len(walls)} of {len(table.seeds)} | {sum(walls):.0f} | "
            f"[{table.out}]({Path(table.out).name}) |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root", required=True, help="folder for the runs, kept (one per regeneration)"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated table names (default: all, in order)"
    )
    parser.add_argument(
        "--list", action="store_true", help="print the tables and what is done, run nothing"
    )
    args = parser.parse_args()
    root = Path(args.root)
    names = [name for name in args.only.split(",") if name]
    unknown = sorted(set(names) - {table.name for table in TABLES})
    if unknown:
        parser.error(
            f"--only: no table named {', '.join(unknown)}; the tables: {', '.join(t.name for t in TABLES)}"
        )
    here = commit()
    if args.list:
        print(
            manifest(
                root, (root / "commit").read_text().strip() if (root / "commit").exists() else here
            )
        )
        return
    if here.endswith("-dirty"):
        sys.exit(
            f"{REPO} has uncommitted changes ({here}): a regeneration's runs must come from one commit"
        )
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "commit").exists():
        (root / "commit").write_text(here + "\n")
    made_at = (root / "commit").read_text().strip()
    if made_at != here:
        sys.exit(
            f"{root} holds runs made at commit {made_at}, this checkout is at {here}: use a new --root"
        )
    for table in TABLES:
        if names and table.name not in names:
            continue
        regenerate(root, table, made_at)
        (root / "docs/regeneration_runs.md").write_text(manifest(root, made_at))
    print(manifest(root, made_at))


if __name__ == "__main__":
    main()
