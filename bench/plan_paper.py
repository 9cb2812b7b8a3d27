"""What the paper's GPT-2 grid (configs/gpt2_paper.yaml) asks of a cluster and its disk, by `w2s plan`, offline.

    python bench/plan_paper.py [configs/gpt2_paper.yaml] [--keep-checkpoints true|false]

`w2s plan` counts a hub model's parameters from its config.json in the local Hugging Face cache. So that this runs
without the models downloaded, it writes the four GPT-2 sizes' published shapes (hidden size x layers, heads,
vocabulary 50257, context 1024) as config.json files into a temporary cache and points the plan at it. The job
counts and hours come from a dry run of the grid in an empty folder, as for a first run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from stamp import commit

REPO = Path(__file__).resolve().parents[1]
GPT2_SHAPES = {
    "gpt2": (768, 12, 12),
    "gpt2-medium": (1024, 24, 16),
    "gpt2-large": (1280, 36, 20),
    "gpt2-xl": (1600, 48, 25),
}  # (n_embd, n_layer, n_head) of openai-community/<name>


def fake_cache(cache: Path) -> None:
    from transformers import GPT2Config

    for name, (hidden, layers, heads) in GPT2_SHAPES.items():
        repo = cache / f"models--openai-community--{name}"
        snapshot = repo / "snapshots" / ("0" * 40)
        snapshot.mkdir(parents=True)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("0" * 40)
        GPT2Config(
            n_embd=hidden, n_layer=layers, n_head=heads, vocab_size=50257, n_positions=1024
        ).to_json_file(snapshot / "config.json")


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
    fake_cache(work / "hub")
    config = yaml.safe_load(Path(args.config).read_text())
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
