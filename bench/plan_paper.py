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
from stamp import commit

REPO = Path(__file__).resolve().parents[1]
GPT2 = {  # (n_embd, n_layer, n_head); vocabulary 50257, context 1024
    "openai-community/gpt2": (768, 12, 12),
    "openai-community/gpt2-medium": (1024, 24, 16),
    "openai-community/gpt2-large": (1280, 36, 20),
    "openai-community/gpt2-xl": (1600, 48, 25),
}
PYTHIA = {  # (hidden, layers, heads); vocabulary 50304, context 2048, untied
    "EleutherAI/pythia-410m": (1024, 24, 16),
    "EleutherAI/pythia-1.4b": (2048, 24, 16),
}
QWEN = {  # (hidden, intermediate, layers, heads, kv heads, tied, vocabulary, context)
    "Qwen/Qwen2.5-0.5B": (896, 4864, 24, 14, 2, True, 151936, 32768),
    "Qwen/Qwen2.5-1.5B": (1536, 8960, 28, 12, 2, True, 151936, 131072),
    "Qwen/Qwen2.5-3B": (2048, 11008, 36, 16, 2, True, 151936, 32768),
    "Qwen/Qwen2.5-7B": (3584, 18944, 28, 28, 4, False, 152064, 131072),
}


def published_config(repo_id: str):
    from transformers import GPT2Config, GPTNeoXConfig, Qwen2Config

    if repo_id in GPT2:
        hidden, layers, heads = GPT2[repo_id]
        return GPT2Config(
            n_embd=hidden, n_layer=layers, n_head=heads, vocab_size=50257, n_positions=1024
        )
    if repo_id in PYTHIA:
        hidden, layers, heads = PYTHIA[repo_id]
        return GPTNeoXConfig(
            hidden_size=hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            intermediate_size=4 * hidden,
            vocab_size=50304,
            max_position_embeddings=2048,
            tie_word_embeddings=False,
        )
    hidden, intermediate, layers, heads, kv_heads, tied, vocab, context = QWEN[repo_id]
    return Qwen2Config(
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        tie_word_embeddings=tied,
        vocab_size=vocab,
        max_position_embeddings=context,
    )


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
