"""autocast auto: bf16 exactly where the device computes it natively; fp32 elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch

from w2s.training.runtime import NATIVE_BF16_FLAGS, bf16_enabled

CPU = torch.device("cpu")


def test_explicit_settings_are_obeyed():
    assert bf16_enabled("bf16", CPU) and not bf16_enabled("off", CPU)


def test_auto_uses_bf16_on_a_cpu_with_bf16_instructions_only():
    flags = set(Path("/proc/cpuinfo").read_text().split())
    assert bf16_enabled("auto", CPU) == bool(flags & set(NATIVE_BF16_FLAGS))


def test_auto_stays_fp32_on_the_portable_kernels():
    """ATEN_CPU_CAPABILITY=default selects kernels without bf16 arithmetic, where bf16 is emulated and slow."""
    probe = (
        "import torch; from w2s.training.runtime import bf16_enabled; "
        "print(bf16_enabled('auto', torch.device('cpu')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "ATEN_CPU_CAPABILITY": "default"},
    )
    assert result.stdout.strip() == "False"
