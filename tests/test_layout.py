"""The package's floors (see w2s/__init__.py): each module imports only from its own floor and the ones below, and
no modules import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

from snakemake_helpers import REPO

# "" is the package itself (w2s.__version__)
BASE = {"columns", "converted", "errors", "hub", "io", "version", ""}
# what job time and parse time may both import (the kinds' modules import torch only inside functions)
BELOW_JOBS = {"base", "records", "data", "models", "training", "analysis", "kinds", "process"}
ALLOWED = {
    "base": {"base"},
    "records": {"base", "records"},
    "data": {"base", "data"},
    "models": {"base", "data", "models"},
    "training": {"base", "data", "models", "training"},
    "analysis": {"base", "records", "analysis"},
    "kinds": {"base", "records", "data", "models", "training", "analysis", "kinds"},
    "process": {"base", "training", "process"},
    "jobs": BELOW_JOBS | {"jobs"},
    # parse time; process only for the two names the byte-frozen job scripts import (pipeline/warm.py, job.py)
    "pipeline": BELOW_JOBS | {"pipeline"},
    "cli": {"base", "records", "analysis", "pipeline"},
}


def floor(module: str) -> str:
    """w2s.training.loop -> training; w2s.io -> base; w2s.cli -> cli."""
    parts = module.split(".")[1:] or [""]
    if parts[0] in BASE:
        return "base"
    return parts[0]


def imports(path: Path) -> set[str]:
    """The w2s modules a file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "w2s":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "w2s")
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_modules_import_only_from_their_floor_and_below():
    package = REPO / "w2s"
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 20 and set(ALLOWED) >= {floor(module_name(p)) for p in modules}
    wrong = [
        f"{module_name(path)} imports {target}"
        for path in modules
        for target in imports(path)
        if floor(target) not in ALLOWED[floor(module_name(path))]
    ]
    assert not wrong, wrong


def test_no_import_circle():
    modules = {module_name(path): path for path in (REPO / "w2s").rglob("*.py")}
    graph = {
        name: {target for target in imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }
    done, on_path = set(), []

    def visit(name: str) -> None:
        assert name not in on_path, " -> ".join([*on_path[on_path.index(name) :], name])
        if name in done:
            return
        on_path.append(name)
        for target in sorted(graph[name]):
            visit(target)
        on_path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
