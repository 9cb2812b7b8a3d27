"""Build the source a dataset entry of the config describes."""

from __future__ import annotations

import inspect

from w2s.data.answers import is_generative
from w2s.data.hf_tasks import HF_TASKS, HFSource
from w2s.data.sources import LocalFileSource, Source, SyntheticSentimentSource
from w2s.data.world import make_world
from w2s.data.world_sources import WorldPreferenceSource, WorldQuestionSource, WorldTaskSource
from w2s.errors import W2SError

KINDS = ("synthetic", "local", "world", "lichess_puzzles", *HF_TASKS)
WORLD_OPTIONS = ("world", "format", "separator", "values_as")
HF_OPTIONS = ("source", "subset", "revision", "data_dir", "splits", "data_files", "format")


def option_names(kind: str) -> tuple[str, ...]:
    """The options a dataset kind takes (`datasets.<name>.options`)."""
    if kind == "world":
        return WORLD_OPTIONS
    if kind == "lichess_puzzles":
        from w2s.data.lichess import OPTIONS

        return OPTIONS
    if kind in HF_TASKS:
        return HF_OPTIONS
    source = {"synthetic": SyntheticSentimentSource, "local": LocalFileSource}[kind]
    return tuple(inspect.signature(source).parameters)


def check_options(dataset: str, entry: dict) -> None:
    """A dataset's options, checked against those its kind takes: a misspelt key would otherwise be ignored, and
    the run made of something else (`fromat: question` runs the classification task; `data_file:` reads the hub's
    rows, not the user's file)."""
    allowed = option_names(entry["kind"])
    unknown = sorted(set(entry.get("options", {})) - set(allowed))
    if unknown:
        raise W2SError(
            f"config key datasets.{dataset}.options: unknown option(s) {unknown} for kind {entry['kind']}; it "
            f"takes {list(allowed)}"
        )


WORLD_FORMATS = ("statement", "question", "preference")


def check_world_format(name: str, entry: dict, worlds: dict) -> None:
    options = entry.get("options", {})
    world = worlds.get(options.get("world"), {})
    if world.get("type") in ("chess", "nim") and options.get("format") != "question":
        raise W2SError(
            f"config key datasets.{name}.options.format: world {options['world']!r} is a {world['type']} world, "
            "whose puzzles are answered by a move: set format: question"
        )
    if entry["kind"] == "world" and options.get("format", "statement") not in WORLD_FORMATS:
        raise W2SError(
            f"config key datasets.{name}.options.format: {options['format']!r} is not one of "
            f"{list(WORLD_FORMATS)}"
        )
    if "separator" in options:
        check_separator(name, options["separator"], world)
    if options.get("values_as", "digits") != "digits":
        check_values_as(name, entry, world)
    if not is_generative(entry) and "max_new_tokens" in entry:
        raise W2SError(
            f"config key datasets.{name}.max_new_tokens: only a generative task (a world dataset with "
            "options.format question, or lichess_puzzles) generates answers"
        )


def check_values_as(name: str, entry: dict, world_entry: dict) -> None:
    """`values_as: family_tokens` writes a comparison's digits as a folk world's family tokens f00-f09."""
    options = entry["options"]
    if options["values_as"] != "family_tokens":
        raise W2SError(
            f"config key datasets.{name}.options.values_as: {options['values_as']!r} is not one of "
            "['digits', 'family_tokens']"
        )
    if options.get("format") != "preference":
        raise W2SError(
            f"config key datasets.{name}.options.values_as: only comparisons (format: preference) write their "
            "values in another code"
        )
    if world_entry.get("type") != "folk_facts" or make_world(world_entry).families < 10:
        raise W2SError(
            f"config key datasets.{name}.options.values_as: family_tokens needs a folk_facts world of at least "
            "10 families (its tokens f00-f09 stand for the digits)"
        )


def check_separator(name: str, separator, world_entry: dict) -> None:
    """A world dataset's `separator` (what stands between an entity and its value in the task's texts, "=" in
    pretraining) must be one non-digit token of the world's vocabulary: another character would be read as unknown."""
    if world_entry.get("type") == "chess":
        raise W2SError(
            f"config key datasets.{name}.options.separator: a chess world's puzzles have no separator to change"
        )
    world = make_world(world_entry)
    allowed = sorted({w for w in world.vocabulary() if len(w) == 1 and not w.isdigit()})
    if separator not in allowed:
        raise W2SError(
            f"config key datasets.{name}.options.separator: {separator!r} is not a token of world "
            f"{world_entry.get('type', 'knowledge_base')!r}; expected one of {allowed}"
        )


def is_pairwise(entry: dict) -> bool:
    """Whether a dataset entry of the config is a comparison task (w2s.data.pairs): a world's preference format,
    or a comparison set from the hub."""
    if entry["kind"] == "world":
        return entry.get("options", {}).get("format") == "preference"
    return entry["kind"] in HF_TASKS and HF_TASKS[entry["kind"]].pairs


def make_source(dataset: str, entry: dict, world_dir: str | None = None) -> Source:
    """`world_dir`: the generated world a dataset of kind world asks about."""
    kind, options = entry["kind"], entry.get("options", {})
    if kind == "world":
        separator = options.get("separator", "=")
        if is_pairwise(entry):
            return WorldPreferenceSource(world_dir, separator, options.get("values_as", "digits"))
        if is_generative(entry):
            return WorldQuestionSource(world_dir, separator)
        return WorldTaskSource(world_dir, separator)
    try:
        if kind == "synthetic":
            return SyntheticSentimentSource(**options)
        if kind == "local":
            return LocalFileSource(**options)
    except TypeError as exc:  # an unknown or missing option
        raise W2SError(f"datasets.{dataset}.options: {exc}") from exc
    if kind == "lichess_puzzles":
        from w2s.data.lichess import LichessPuzzleSource

        return LichessPuzzleSource(dataset, options)
    if kind in HF_TASKS:
        return HFSource(kind, options)
    raise W2SError(f"datasets.{dataset}.kind: unknown kind {kind!r}; expected one of {list(KINDS)}")
