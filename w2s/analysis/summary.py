"""Turn per-run metrics records into PGR tables: per run, per task (over seeds), and across tasks."""

from __future__ import annotations

import polars as pl

from w2s.errors import W2SError

GROUP = ["dataset", "weak", "strong", "loss"]
METRICS = ["weak_acc", "ceiling_acc", "student_acc", "pgr", "weak_zero_shot_acc", "strong_zero_shot_acc"]
RUNS_SCHEMA = {
    "dataset": pl.String,
    "weak": pl.String,
    "strong": pl.String,
    "loss": pl.String,
    "seed": pl.Int64,
    "weak_acc": pl.Float64,
    "ceiling_acc": pl.Float64,
    "student_acc": pl.Float64,
    "pgr": pl.Float64,
    "weak_zero_shot_acc": pl.Float64,  # the models' own answers without finetuning (null where not measured)
    "strong_zero_shot_acc": pl.Float64,
}
ROLES = ("weak", "ceiling", "student", "zero_shot")


def _index_baselines(records: list[dict]) -> dict[tuple, dict]:
    """Map (role, dataset, seed, model) -> record for weak, ceiling and zero-shot runs; a duplicate is ambiguous, so
    refuse it."""
    index: dict[tuple, dict] = {}
    for rec in records:
        role = rec.get("role")
        if role not in ROLES:
            raise W2SError(f"metrics record has role {role!r}; expected one of {ROLES}: {rec}")
        if role == "student":
            continue
        key = (role, rec["dataset"], rec["seed"], rec["model"])
        if key in index:
            raise W2SError(
                f"two {role} records for dataset {rec['dataset']!r}, seed {rec['seed']}, model {rec['model']!r}"
            )
        index[key] = rec
    return index


def _baseline(index: dict, role: str, student: dict, model: str) -> dict:
    key = (role, student["dataset"], student["seed"], model)
    if key not in index:
        raise W2SError(
            f"no {role} record for dataset {student['dataset']!r}, seed {student['seed']}, model {model!r} "
            f"(needed by the {student['model']!r} student supervised by {student['weak']!r}, loss {student['loss']!r})"
        )
    base = index[key]
    # PGR compares accuracies; they must come from the same test set.
    if base.get("n") != student.get("n"):
        raise W2SError(
            f"{role} record for dataset {student['dataset']!r}, seed {student['seed']}, model {model!r} "
            f"has n={base.get('n')} test examples but the student has n={student.get('n')}"
        )
    return base


def _zero_shot(index: dict, student: dict, model: str) -> float | None:
    key = ("zero_shot", student["dataset"], student["seed"], model)
    return _baseline(index, "zero_shot", student, model)["accuracy"] if key in index else None


def _pgr(weak: float, ceiling: float, student: float) -> float | None:
    # No gap to recover: PGR is undefined, so null rather than inf/NaN.
    if ceiling == weak:
        return None
    return (student - weak) / (ceiling - weak)


def runs_table(records: list[dict]) -> pl.DataFrame:
    """One row per student run with its weak and ceiling accuracy (same dataset and seed) and its PGR."""
    index = _index_baselines(records)
    rows = []
    for rec in records:
        if rec["role"] != "student":
            continue
        weak_acc = _baseline(index, "weak", rec, rec["weak"])["accuracy"]
        ceiling_acc = _baseline(index, "ceiling", rec, rec["model"])["accuracy"]
        rows.append(
            {
                "dataset": rec["dataset"],
                "weak": rec["weak"],
                "strong": rec["model"],
                "loss": rec["loss"],
                "seed": rec["seed"],
                "weak_acc": weak_acc,
                "ceiling_acc": ceiling_acc,
                "student_acc": rec["accuracy"],
                "pgr": _pgr(weak_acc, ceiling_acc, rec["accuracy"]),
                "weak_zero_shot_acc": _zero_shot(index, rec, rec["weak"]),
                "strong_zero_shot_acc": _zero_shot(index, rec, rec["model"]),
            }
        )
    return pl.DataFrame(rows, schema=RUNS_SCHEMA).sort(GROUP + ["seed"])


def aggregate(runs: pl.DataFrame) -> pl.DataFrame:
    """Mean and s.e.m. over seeds per (dataset, weak, strong, loss); s.e.m. is null with fewer than two values."""
    stats = [pl.len().alias("n_seeds")]
    for col in METRICS:
        # count() skips nulls, so a seed with undefined PGR does not shrink the s.e.m.
        stats.append(pl.col(col).mean().alias(f"{col}_mean"))
        stats.append((pl.col(col).std(ddof=1) / pl.col(col).count().sqrt()).alias(f"{col}_sem"))
    return runs.group_by(GROUP).agg(stats).sort(GROUP)


def overall(agg: pl.DataFrame) -> pl.DataFrame:
    """The paper's across-task summary: median over datasets of each task's mean PGR."""
    keys = ["weak", "strong", "loss"]
    return (
        agg.group_by(keys)
        .agg(pl.col("dataset").n_unique().alias("n_datasets"), pl.col("pgr_mean").median().alias("pgr_median"))
        .sort(keys)
    )
