"""bench/gpu_check.py, the project's GPU check, at tiny shapes on this CPU: a lent GPU machine has minutes for it,
so a script that breaks there must break here first. It runs as on that machine, where polars and deepspeed are
absent: both are hidden from it here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# each part's measurements: memory and activations each twice per model, gradient checkpointing off and on
MEASUREMENTS = {
    "environment": 1,
    "training": 2,
    "memory": 4,
    "activations": 4,
    "generation": 2,
    "deepspeed": 1,
}
TITLES = ("## 1.", "## 2.", "## 3.", "## 3b.", "## 4.", "## 5.")


def absent_modules(root: Path, names: tuple[str, ...]) -> Path:
    """A folder of packages whose import fails as a missing module's does: first on the path, they hide the
    installed ones."""
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{name}'\", name='{name}')\n"
        )
    return root


def test_tiny_gpu_check_measures_every_part(tmp_path):
    hidden = absent_modules(tmp_path / "absent", ("polars", "deepspeed"))
    path = os.pathsep.join(filter(None, (str(hidden), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": path}
    out = tmp_path / "out"
    command = [sys.executable, "bench/gpu_check.py", "--tiny", "--threads", "1", "--out", str(out)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(line) for line in (out / "gpu_check.jsonl").read_text().splitlines()]
    parts = [r["part"] for r in records]
    assert {part: parts.count(part) for part in MEASUREMENTS} == MEASUREMENTS, records
    failed = [r for r in records if "error" in r or ("skipped" in r and r["part"] != "deepspeed")]
    assert not failed, failed
    assert [r.get("skipped") for r in records if r["part"] == "deepspeed"] == ["deepspeed absent"]
    training = [r for r in records if r["part"] == "training"]
    assert len(training) == 2 and all(r["tokens_per_s"] > 0 for r in training)
    report = (out / "gpu_check.md").read_text()
    assert all(title in report for title in TITLES)
    assert sum(line.startswith("|---|") for line in report.splitlines()) == len(MEASUREMENTS)
