"""Turn per-run metrics records into PGR tables: per run, per task (over seeds), and across tasks.

PGR is undefined where the ceiling does not beat the weak model (there is no gap to recover; a ratio over a gap
near 0 or below it means nothing): such runs get a null PGR and a flag, and means skip them. A student below chance
on the balanced test split learnt the inverted rule, which is a finding, so it is flagged too.
"""

from __future__ import annotations

import polars as pl

from w2s.errors import W2SError

# Chess answers: the share of each run's answers that are legal moves, and of the student's that are the right move
# however they mark check or mate (exact-string accuracy scores a right move with a wrong "+" as wrong); null
# for other tasks.
MOVE_METRICS = [
    "weak_legal_rate",
    "ceiling_legal_rate",
    "student_legal_rate",
    "student_move_accuracy",
]
# k-shot prompting (config few_shot): the strong model's untrained answers to prompts whose examples show the truth, or
# the row's weak model's labels; null where not measured
FEW_SHOT_METRICS = ["few_shot_acc", "few_shot_weak_acc", "few_shot_pgr", "few_shot_weak_pgr"]
GROUP = ["dataset", "weak", "strong", "loss", "chain", "generative", "mode", "early_stopping"]
METRICS = [
    "weak_acc",
    "ceiling_acc",
    "student_acc",
    "pgr",
    "weak_zero_shot_acc",
    "strong_zero_shot_acc",
    "zero_shot_pgr",
    *MOVE_METRICS,
    "misfit",
    *FEW_SHOT_METRICS,
]
RUNS_SCHEMA = {
    "dataset": pl.String,
    "weak": pl.String,
    "strong": pl.String,
    "loss": pl.String,
    "chain": pl.String,  # a bootstrapping chain's models joined by "+" ("" for a direct weak -> strong student)
    "generative": pl.Boolean,  # the strong model was finetuned as an LM on the task's texts first
    "mode": pl.String,  # the strong model's: finetune, or probe (a linear probe on its frozen activations)
    # Which model of each strong run the row scores (w2s.analysis.early_stops): none (the final one), weak_val or
    # oracle; ceiling and student of a row are picked the same way, and the weak model is always the final one that
    # wrote the labels.
    "early_stopping": pl.String,
    "seed": pl.Int64,
    "weak_acc": pl.Float64,
    "ceiling_acc": pl.Float64,
    "student_acc": pl.Float64,
    "pgr": pl.Float64,
    "weak_zero_shot_acc": pl.Float64,  # the models' own answers without finetuning (null where not measured)
    "strong_zero_shot_acc": pl.Float64,
    **dict.fromkeys(MOVE_METRICS, pl.Float64),
    # the student's mean KL to what it was taught, on its training rows (w2s.training.misfit; null in older runs)
    "misfit": pl.Float64,
    "few_shot_acc": pl.Float64,
    "few_shot_weak_acc": pl.Float64,
    "flags": pl.String,  # ";"-joined FLAGS that apply to the run ("" for none)
    # A pair of one model with itself: the control for "is it weak-to-strong, or just training on its own labels?"
    # Its weak and ceiling runs differ only in their training split, so its PGR measures noise; read
    # student_acc - weak_acc instead.
    "strong_to_strong": pl.Boolean,
}
NO_GAP, BELOW_CHANCE = "ceiling_not_above_weak", "student_below_chance"
LATER_METRICS = [
    *MOVE_METRICS,
    "misfit",
    "few_shot_acc",
    "few_shot_weak_acc",
]  # columns a runs table written by an older version may lack
# The untrained strong model's accuracies, and the share of the gap each recovers
BASELINE_PGRS = {
    "strong_zero_shot_acc": "zero_shot_pgr",
    "few_shot_acc": "few_shot_pgr",
    "few_shot_weak_acc": "few_shot_weak_pgr",
}
CHANCE = 0.5  # the test split is balanced 50/50
ROLES = ("weak", "ceiling", "student", "chain", "zero_shot", "few_shot")
STUDENTS = (
    "student",
    "chain",
)  # a chain link is a student of the chain's first model, through the links between


def method_label(row: dict) -> str:
    """What a summary row's runs did besides finetuning the strong model on the weak labels and keeping the final
    model: for tables and plots that compare the methods."""
    parts = [
        label
        for label, applies in (
            ("strong-to-strong", row["weak"] == row["strong"]),
            (f"chain {row['chain']}", bool(row["chain"])),
            ("linear probe", row["mode"] == "probe"),
            ("generative finetuning first", row["generative"]),
            (f"early stop {row['early_stopping']}", row["early_stopping"] != "none"),
        )
        if applies
    ]
    return ", ".join(parts) or "finetune, final model"


def stopping(record: dict) -> str:
    return record.get("early_stopping", "none")


def _index_baselines(records: list[dict]) -> dict[tuple, dict]:
    """Map (role, dataset, seed, model, early stopping) -> record for weak, ceiling and zero-shot runs (for k-shot
    prompts, the examples' labeller, "truth" or the weak model, in early stopping's place); a duplicate is
    ambiguous, so refuse it."""
    index: dict[tuple, dict] = {}
    for rec in records:
        role = rec.get("role")
        if role not in ROLES:
            raise W2SError(f"metrics record has role {role!r}; expected one of {ROLES}: {rec}")
        if role in STUDENTS:
            continue
        last = (rec["weak"] or "truth") if role == "few_shot" else stopping(rec)
        key = (role, rec["dataset"], rec["seed"], rec["model"], last)
        if key in index:
            raise W2SError(
                f"two {role} records for dataset {rec['dataset']!r}, seed {rec['seed']}, model {rec['model']!r}"
                + (f", early stopping {stopping(rec)}" if stopping(rec) != "none" else "")
            )
        index[key] = rec
    return index


def _baseline_key(role: str, student: dict, model: str, labeller: str | None = None) -> tuple:
    # Every row's weak baseline is the weak model's final checkpoint, the one that wrote the labels its students
    # learnt from (early stopping picks among the strong runs only); zero-shot scores have no training to stop; a
    # k-shot score is keyed by its examples' labeller.
    last = labeller if role == "few_shot" else "none" if role != "ceiling" else stopping(student)
    return (role, student["dataset"], student["seed"], model, last)


def _baseline(
    index: dict, role: str, student: dict, model: str, labeller: str | None = None
) -> dict:
    key = _baseline_key(role, student, model, labeller)
    if key not in index:
        raise W2SError(
            f"no {role} record for dataset {student['dataset']!r}, seed {student['seed']}, model {model!r}"
            + (f", early stopping {stopping(student)}" if stopping(student) != "none" else "")
            + " "
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


def _measured(
    index: dict, role: str, student: dict, model: str, labeller: str | None = None
) -> float | None:
    """An untrained model's accuracy (zero-shot, or with k-shot prompts whose examples `labeller` labelled: "truth",
    or the student's weak model) where it was measured, else None."""
    if _baseline_key(role, student, model, labeller) not in index:
        return None
    return _baseline(index, role, student, model, labeller)["accuracy"]


def pgr(weak: float, ceiling: float, student: float) -> float | None:
    """(student - weak) / (ceiling - weak); None where the ceiling does not beat the weak model."""
    if ceiling <= weak:
        return None
    return (student - weak) / (ceiling - weak)


def run_flags(weak: float, ceiling: float, student: float, chance: float | None = CHANCE) -> str:
    below = chance is not None and student < chance
    return ";".join([*([NO_GAP] if ceiling <= weak else []), *([BELOW_CHANCE] if below else [])])


def runs_table(records: list[dict]) -> pl.DataFrame:
    """One row per student run with its weak and ceiling accuracy (same dataset and seed) and its PGR."""
    index = _index_baselines(records)
    rows = []
    for rec in records:
        if rec["role"] not in STUDENTS:
            continue
        weak = _baseline(index, "weak", rec, rec["weak"])
        ceiling = _baseline(index, "ceiling", rec, rec["model"])
        weak_acc, ceiling_acc = weak["accuracy"], ceiling["accuracy"]
        # None for generated answers: exact match has no chance level
        chance = rec.get("chance", CHANCE)
        rows.append(
            {
                "dataset": rec["dataset"],
                "weak": rec["weak"],
                "strong": rec["model"],
                "loss": rec["loss"],
                "chain": rec.get("chain", ""),
                "generative": rec.get("generative", False),
                "mode": rec.get("mode", "finetune"),
                "early_stopping": stopping(rec),
                "seed": rec["seed"],
                "weak_acc": weak_acc,
                "ceiling_acc": ceiling_acc,
                "student_acc": rec["accuracy"],
                "pgr": pgr(weak_acc, ceiling_acc, rec["accuracy"]),
                "weak_zero_shot_acc": _measured(index, "zero_shot", rec, rec["weak"]),
                "strong_zero_shot_acc": _measured(index, "zero_shot", rec, rec["model"]),
                "weak_legal_rate": weak.get("legal_rate"),
                "ceiling_legal_rate": ceiling.get("legal_rate"),
                "student_legal_rate": rec.get("legal_rate"),
                "student_move_accuracy": rec.get("move_accuracy"),
                "misfit": rec.get("misfit"),
                "few_shot_acc": _measured(index, "few_shot", rec, rec["model"], "truth"),
                "few_shot_weak_acc": _measured(index, "few_shot", rec, rec["model"], rec["weak"]),
                "flags": run_flags(weak_acc, ceiling_acc, rec["accuracy"], chance),
                "strong_to_strong": rec["weak"] == rec["model"],
            }
        )
    return pl.DataFrame(rows, schema=RUNS_SCHEMA).sort(GROUP + ["seed"])


# Student's t distribution's 97.5% quantile by degrees of freedom 1-30 (standard tables); above 30, the normal's.
T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t95_half_width(sem_value: float | None, n: int) -> float | None:
    """The half-width of a 95% t interval for a mean of n values with standard error `sem_value`: None with fewer
    than two values."""
    if sem_value is None or n < 2:
        return None
    return (T975[n - 2] if n - 1 <= len(T975) else 1.96) * sem_value


def sem(column: str) -> pl.Expr:
    """The standard error of a column's mean over a group: null with fewer than two values; count() skips nulls, so
    a seed with an undefined value does not shrink it."""
    return pl.col(column).std(ddof=1) / pl.col(column).count().sqrt()


def aggregate(runs: pl.DataFrame) -> pl.DataFrame:
    """Mean and s.e.m. over seeds per (dataset, weak, strong, loss); s.e.m. is null with fewer than two values.

    `pgr_mean` is the mean of the seeds' PGRs (undefined ones left out, and counted in `n_pgr_undefined`);
    `pgr_of_means` is the paper's form, the PGR of the seed-mean accuracies (null where the mean ceiling does not
    beat the mean weak accuracy). `zero_shot_pgr` is the same ratio for the strong model's untrained answer: the
    share of the gap it recovers with no supervision at all, which a student should beat for its supervision to
    count (null where the zero-shot score was not measured); `few_shot_pgr` and `few_shot_weak_pgr` are the
    same for its answers to k-shot prompts with true labels and with the weak model's. `n_below_chance` counts
    students below chance (none for generated answers, which have no chance level).
    """
    runs = runs.with_columns(  # a runs table written before chess answers, or misfit, had them
        pl.lit(None, pl.Float64).alias(c) for c in LATER_METRICS if c not in runs.columns
    )
    gap = pl.col("ceiling_acc") - pl.col("weak_acc")
    runs = runs.with_columns(
        (pl.when(gap > 0).then((pl.col(acc) - pl.col("weak_acc")) / gap)).alias(name)
        for acc, name in BASELINE_PGRS.items()
    )
    stats = [pl.len().alias("n_seeds")]
    for col in METRICS:
        stats.append(pl.col(col).mean().alias(f"{col}_mean"))
        stats.append(sem(col).alias(f"{col}_sem"))
    stats.append(pl.col("pgr").is_null().sum().cast(pl.Int64).alias("n_pgr_undefined"))
    below = pl.col("flags").str.contains(BELOW_CHANCE, literal=True)
    stats.append(below.sum().cast(pl.Int64).alias("n_below_chance"))
    agg = runs.group_by(GROUP).agg(stats).sort(GROUP)
    gap = pl.col("ceiling_acc_mean") - pl.col("weak_acc_mean")
    of_means = pl.when(gap > 0).then((pl.col("student_acc_mean") - pl.col("weak_acc_mean")) / gap)
    return agg.with_columns(
        of_means.alias("pgr_of_means"),
        *(
            pl.when(gap > 0)
            .then((pl.col(f"{acc}_mean") - pl.col("weak_acc_mean")) / gap)
            .alias(f"{name}_of_means")
            for acc, name in BASELINE_PGRS.items()
        ),
    )


def overall(agg: pl.DataFrame) -> pl.DataFrame:
    """The paper's across-task summary: median over datasets of each task's PGR (mean of seeds, and of means).
    `n_datasets` counts the datasets the median is over (those with a defined PGR), `n_datasets_pgr_undefined` the
    others."""
    keys = ["weak", "strong", "loss", "chain", "generative", "mode", "early_stopping"]
    defined = pl.col("pgr_mean").is_not_null()
    return (
        agg.group_by(keys)
        .agg(
            pl.col("dataset").filter(defined).n_unique().alias("n_datasets"),
            pl.col("dataset").filter(~defined).n_unique().alias("n_datasets_pgr_undefined"),
            pl.col("pgr_mean").median().alias("pgr_median"),
            pl.col("pgr_of_means").median().alias("pgr_of_means_median"),
        )
        .sort(keys)
    )


def flagged_runs(runs: pl.DataFrame) -> list[str]:
    """One line per flagged run, for logs and the command line."""
    lines = []
    for r in runs.filter(pl.col("flags") != "").iter_rows(named=True):
        what = []
        if NO_GAP in r["flags"]:
            what.append(
                f"PGR undefined: ceiling {r['ceiling_acc']:.3f} does not beat weak {r['weak_acc']:.3f}"
            )
        if BELOW_CHANCE in r["flags"]:
            what.append(
                f"student below chance ({r['student_acc']:.3f}): it learnt the inverted rule"
            )
        method = method_label(r)
        loss = r["loss"] if method == "finetune, final model" else f"{r['loss']} ({method})"
        lines.append(
            f"{r['dataset']} seed {r['seed']}, {r['weak']} -> {r['strong']}, {loss}: "
            + "; ".join(what)
        )
    return lines
