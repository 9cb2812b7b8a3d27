"""The code stays in the shape its tools check: ruff's linter and formatter (pyproject.toml), snakefmt for the
Snakefile and rules, and Snakemake's own linter on the default grid and on a grid with sharded labelling and test
predictions (which add the rules that only exist then)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from snakemake_helpers import LOCAL_ENV, REPO, SNAKEMAKE, tiny_config, write_config


def run(*command: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)


def test_ruff_finds_nothing():
    result = run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing():
    result = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_would_change_nothing():
    result = run(sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.workflow
@pytest.mark.parametrize("sharded", [False, True], ids=["default", "sharded"])
def test_snakemake_lint_is_clean(tmp_path, sharded):
    config = [
        "--configfile",
        str(write_config(tmp_path, tiny_config(labelling={"shards": 2, "test_shards": 2}))),
    ]
    result = run(*SNAKEMAKE, "--lint", *(config if sharded else []), env=LOCAL_ENV)
    assert result.returncode == 0 and "Congratulations" in result.stdout + result.stderr, (
        result.stdout + result.stderr
    )
