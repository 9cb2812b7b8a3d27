"""`w2s fetch`: every hub model and hub dataset a grid names, downloaded once into the Hugging Face cache on a
machine that reaches the hub (a cluster's login node) and checked against the hub's checksums, so that the grid's
jobs run with the hub offline (`HF_HUB_OFFLINE=1`) and never download, nor race each other for one cache entry."""

from __future__ import annotations

from collections.abc import Callable

from w2s.data import lichess
from w2s.data.hf_tasks import HF_TASKS, dataset_ref
from w2s.errors import W2SError
from w2s.hub import HubRef, cache_dir, fetch, looks_like_local_path, model_ref, pending
from w2s.pipeline.rule_params import model_source


def hub_references(config: dict) -> dict[HubRef, list[str]]:
    """Each hub repository (at its revision, with the files its jobs read) the grid loads, and the config keys that
    name it."""
    refs: dict[HubRef, list[str]] = {}
    for name, entry in config["models"].items():
        if "path" in entry and not looks_like_local_path(entry["path"]):
            refs.setdefault(model_ref(model_source(config, name)), []).append(f"models.{name}")
    for name, entry in config["datasets"].items():
        options = entry.get("options", {})
        if entry["kind"] == "lichess_puzzles":
            found = lichess.references(options)
        elif entry["kind"] in HF_TASKS:
            found = [dataset_ref(entry["kind"], options)]
        else:
            found = []
        for ref in found:
            if ref:
                refs.setdefault(ref, []).append(f"datasets.{name}")
    return refs


def human(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes < 1000 or unit == "TB":
            return f"{n_bytes:.1f} {unit}" if unit != "B" else f"{int(n_bytes)} B"
        n_bytes /= 1000
    raise AssertionError


def fetch_grid(config: dict, say: Callable[[str], None] = print) -> int:
    """Fetch and check every reference; the bytes in the cache for them. Fails, naming each file, where a file
    differs from the hub's, is missing, or a model has no safetensors weights."""
    refs = hub_references(config)
    if not refs:
        say("nothing to fetch: the grid names no hub model or hub dataset")
        return 0
    say(f"fetching {len(refs)} hub repositories into {cache_dir()}")
    total, problems = 0, []
    for ref, keys in refs.items():
        say(f"{ref} ({', '.join(keys)}) ...")
        fetched = fetch(ref)
        total += fetched.bytes
        state = "verified" if not fetched.problems else f"{len(fetched.problems)} problem(s)"
        say(f"  {fetched.files} files, {human(fetched.bytes)}, {state}: {fetched.path}")
        problems += [f"{ref}: {problem}" for problem in fetched.problems]
    say(
        f"total: {human(total)} in {cache_dir()}; the jobs can now run with HF_HUB_OFFLINE=1 and this HF_HUB_CACHE"
    )
    if problems:
        raise W2SError(
            "what the jobs would load is not as the hub has it:\n  " + "\n  ".join(problems)
        )
    return total


def describe_pending(config: dict) -> list[str]:
    """For `w2s plan`: each hub repository the grid loads, fetched or not, and what fetching it would download."""
    lines = []
    for ref, keys in hub_references(config).items():
        state = pending(ref)
        if state.cached:
            lines.append(f"  fetched: {ref} ({', '.join(keys)})")
        else:
            size = (
                human(state.missing_bytes)
                if state.missing_bytes is not None
                else "size unknown: hub out of reach"
            )
            lines.append(f"  NOT fetched ({size}): {ref} ({', '.join(keys)})")
    if not lines:
        return []
    header = f"hub repositories the jobs load (cache {cache_dir()}; `w2s fetch` downloads what is missing):"
    return ["", header, *lines]
