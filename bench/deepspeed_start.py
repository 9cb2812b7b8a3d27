"""How long a CPU DeepSpeed job takes to join its process group on a machine that has run none before: DeepSpeed's
own start (which compiles its shared-memory all-reduce with the C++ compiler into an empty extensions folder) beside
w2s's (w2s.training.distributed.init_distributed, which tells DeepSpeed not to), each in a fresh process with an
empty TORCH_EXTENSIONS_DIR, as on a new machine or CI.

    python bench/deepspeed_start.py
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stamp import commit

BENCH = Path(__file__).resolve().parent

JOIN = {
    "DeepSpeed's own start": "import deepspeed; deepspeed.init_distributed(dist_backend='gloo')",
    "w2s's start": "from w2s.training.distributed import init_distributed; init_distributed()",
}


def seconds_to_join(code: str) -> tuple[float, int]:
    """Wall seconds of a fresh process that joins a one-process group, and the C++ extensions it built."""
    with tempfile.TemporaryDirectory() as extensions:
        script = (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from process_group import free_port_environment; free_port_environment();" + code
        )
        env = {**os.environ, "TORCH_EXTENSIONS_DIR": extensions}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(BENCH)], env=env, check=True)
        built = len(list(Path(extensions).rglob("*.so")))
        return time.perf_counter() - start, built


def main() -> None:
    results = {name: seconds_to_join(code) for name, code in JOIN.items()}
    print(
        f"commit {commit()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    )
    for name, (seconds, built) in results.items():
        print(f"{name}: {seconds:.1f} s, {built} C++ extension(s) built")
    own, ours = (seconds for seconds, _ in results.values())
    print(f"ratio: {own / ours:.1f}x")


if __name__ == "__main__":
    main()
