"""Reading a config file strictly and validating it against the schema (filling defaults), then the checks that span
its entries (w2s.pipeline.config_checks)."""

from __future__ import annotations

import math
from pathlib import Path

import jsonschema
import yaml

from w2s.errors import W2SError
from w2s.pipeline.config_checks import check_references, key_path

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


def _strict_integers(validator_class):
    """JSON Schema counts 32.0 as an integer; the code downstream would take it as a float and fail late. Here an
    integer is an int, so `n_test: 32.0` is an error that names the key."""
    checker = validator_class.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    return jsonschema.validators.extend(validator_class, type_checker=checker)


def _with_defaults(validator_class):
    """A validator that fills in each property's `default` before validating, as Snakemake's `validate` does."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    default = sub["default"]
                    instance[name] = (
                        type(default)(default) if isinstance(default, (dict, list)) else default
                    )
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_config(config: dict) -> dict:
    """Fill defaults in place and raise W2SError naming the first offending key; return the config."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    check_finite(config)
    validator = _with_defaults(_strict_integers(jsonschema.Draft202012Validator))(schema)
    errors = sorted(
        validator.iter_errors(config), key=lambda e: (len(e.absolute_path), key_path(e))
    )
    if errors:
        error = errors[0]
        best = jsonschema.exceptions.best_match([error]) if not error.context else error.context[0]
        raise W2SError(f"config key {key_path(error)}: {best.message}")
    check_references(config)
    for entry in config["models"].values():
        entry.setdefault("threads", CPUS_PER_GPU * entry["gpus"] or 1)
    return config


# A model job's CPUs per GPU where its entry sets no threads: each GPU's process needs a core for its Python thread
# and kernel launches, and a few for its CPU ops and the collectives' threads (the data is tokenised up front:
# there is no loader to feed). One CPU for a 4-GPU ZeRO-3 job leaves 4 processes and their hooks on one core.
CPUS_PER_GPU = 4


def check_finite(node, path: str = "") -> None:
    """NaN and infinity pass every numeric bound of the schema (a comparison with NaN is never false): reject them."""
    if isinstance(node, float) and not math.isfinite(node):
        raise W2SError(f"config key {path or '(top level)'}: {node} is not a finite number")
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        check_finite(child, f"{path}.{key}" if path else str(key))


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys in a mapping without a word; a config must not."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise W2SError(
                    f"key {key!r} appears twice in one mapping, at lines {seen[key]} and "
                    f"{key_node.start_mark.line + 1} (YAML would silently keep the second)"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_config_file(path: str | Path) -> dict:
    """Read a config file strictly: a duplicate key is an error naming the file and both lines, a syntax error one
    naming the line."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise W2SError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise W2SError(
            f"config file {path} is not UTF-8 text: byte {raw[exc.start]:#04x} at line {line}; save it as UTF-8"
        ) from None
    try:
        config = yaml.load(text, Loader=_UniqueKeyLoader)
    except W2SError as exc:
        raise W2SError(f"config file {path}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise W2SError(
            f"config file {path} is not valid YAML{where}: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise W2SError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise W2SError(
            f"config file {path}: expected a mapping of keys at the top level, found "
            f"{type(config).__name__}"
        )
    return config
