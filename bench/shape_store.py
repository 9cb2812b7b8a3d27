"""What the shape store (w2s.pipeline.shape_store) saves: `w2s plan` of a paper config, offline (the published shapes
of its hub models in a temporary Hugging Face cache, as bench/plan_paper.py writes them), with an empty store (every
model counted on the meta device, in the plan's dry run and in the plan itself) beside a filled one, each a fresh
process, alternating; the median of each.

    python bench/shape_store.py [configs/paper_nlp.yaml] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from plan_paper import fake_cache
from stamp import commit

REPO = Path(__file__).resolve().parents[1]


def plan_seconds(work: Path, store: Path) -> tuple[float, str]:
    env = {
        **os.environ,
        "HF_HUB_CACHE": str(work / "hub"),
        "HF_HUB_OFFLINE": "1",
        "W2S_CACHE": str(store),
        "PATH": f"{REPO / 'tests/no_slurm'}{os.pathsep}{os.environ['PATH']}",
    }  # no Slurm needed to plan
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "w2s.cli", "plan", "config.yaml", "-s", str(REPO / "Snakefile")],
        cwd=work,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - start, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", nargs="?", default=str(REPO / "configs/paper_nlp.yaml"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="w2s-shape-store-"))
    config = yaml.safe_load(Path(args.config).read_text())
    fake_cache(work / "hub", config["models"])
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    filled = work / "filled"
    _, reference = plan_seconds(work, filled)  # fills it
    seconds: dict[str, list[float]] = {"empty store": [], "filled store": []}
    for _ in range(args.repeats):
        empty = work / "empty"
        shutil.rmtree(empty, ignore_errors=True)
        took, plan = plan_seconds(work, empty)
        seconds["empty store"].append(took)
        took, same = plan_seconds(work, filled)
        seconds["filled store"].append(took)
        # the same lines (the rules come in the dry run's order, which varies from run to run)
        assert (
            sorted(plan.splitlines()) == sorted(same.splitlines()) == sorted(reference.splitlines())
        )
    print(
        f"`w2s plan {Path(args.config).name}` (offline, {len(config['models'])} models), commit {commit()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; {args.repeats} runs each, "
        "the same plan in every run"
    )
    for name, runs in seconds.items():
        print(
            f"{name}: median {statistics.median(runs):.1f} s ({', '.join(f'{s:.1f}' for s in runs)})"
        )
    ratio = statistics.median(seconds["empty store"]) / statistics.median(seconds["filled store"])
    print(f"ratio: {ratio:.1f}x")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
