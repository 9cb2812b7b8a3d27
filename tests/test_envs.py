"""The conda environment of the rules agrees with pyproject.toml, and every rule points at it."""

from __future__ import annotations

import re

import tomllib
import yaml
from snakemake_helpers import REPO

# Snakemake and its executor plugin run the workflow; they are not needed inside a rule's environment.
RUNNER_ONLY = {"snakemake", "snakemake-executor-plugin-slurm"}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower()


def test_env_file_parses_and_matches_pyproject():
    env = yaml.safe_load((REPO / "envs/w2s.yaml").read_text())
    assert env["channels"] and any(str(dep).startswith("python") for dep in env["dependencies"])
    pip = next(dep["pip"] for dep in env["dependencies"] if isinstance(dep, dict))
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    expected = {
        requirement_name(spec): spec
        for spec in project["dependencies"]
        if requirement_name(spec) not in RUNNER_ONLY
    }
    assert {requirement_name(spec): spec for spec in pip} == expected
    python = next(dep for dep in env["dependencies"] if str(dep).startswith("python"))
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


def test_every_rule_uses_an_existing_env_file():
    for rules in (REPO / "rules").glob("*.smk"):
        text = rules.read_text()
        n_rules = len(
            re.findall(r"^\s*rule( \w+)?:", text, re.MULTILINE)
        )  # rule NAME:, or rule: with name:
        envs = re.findall(r"conda:\s*\n\s*\"([^\"]+)\"", text)
        assert len(envs) == n_rules, f"{rules.name}: {n_rules} rules, {len(envs)} conda directives"
        for env in envs:
            assert (rules.parent / env).resolve().exists(), f"{rules.name}: {env} does not exist"
