"""What a paper config asks of a cluster, its GPUs and its disk, by `w2s plan`, offline.

    python bench/plan_paper.py [configs/gpt2_paper.yaml] [--keep-checkpoints true|false]

`w2s plan` reads a hub model's shape from its config.json in the local Hugging Face cache. So that this runs without
the models downloaded, it writes the published shapes of the models the paper configs use (GPT-2, Pythia, Qwen2.5:
their config.json fields that size a model) into a temporary cache, with a ref for every revision the config names,
and points the plan at it. The job counts and hours come from a dry run of the grid in an empty folder, as for a
first run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from published_shapes import published_config
from stamp import commit

REPO = Path(__file__).resolve().parents[1]


def fake_cache(cache: Path, models: dict) -> None:
    """config.json of every hub model of `models` (a config's entries), with a ref for each revision named."""
    revisions: dict[str, set[str]] = {}
    for entry in models.values():
        if "path" in entry:
            revisions.setdefault(entry["path"], {"main"}).add(entry.get("revision", "main"))
    for number, (repo_id, refs) in enumerate(sorted(revisions.items())):
        repo = cache / f"models--{repo_id.replace('/', '--')}"
        sha = f"{number:040d}"
        (repo / "refs").mkdir(parents=True)
        for ref in refs:
            (repo / "refs" / ref).write_text(sha)
        (repo / "snapshots" / sha).mkdir(parents=True)
        published_config(repo_id).to_json_file(repo / "snapshots" / sha / "config.json")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?", default=str(REPO / "configs/gpt2_paper.yaml"))
    parser.add_argument(
        "--keep-checkpoints", choices=["true", "false"], help="override the config's"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="w2s-plan-"))
    config = yaml.safe_load(Path(args.config).read_text())
    fake_cache(work / "hub", config["models"])
    if args.keep_checkpoints:
        config["keep_checkpoints"] = args.keep_checkpoints == "true"
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(work / "hub"),
        "HF_HUB_OFFLINE": "1",
        "PATH": f"{REPO / 'tests/no_slurm'}{os.pathsep}{os.environ['PATH']}",
    }  # no Slurm needed to plan
    print(
        f"w2s plan of {args.config} (keep_checkpoints: {config.get('keep_checkpoints', False)}), commit {commit()}"
    )
    sys.stdout.flush()
    subprocess.run(
        [sys.executable, "-m", "w2s.cli", "plan", "config.yaml", "-s", str(REPO / "Snakefile")],
        cwd=work,
        env=env,
        check=True,
    )


if __name__ == "__main__":
    main()
