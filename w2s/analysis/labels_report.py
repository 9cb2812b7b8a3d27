"""A labels or predictions file described in text (`w2s labels`): accuracy overall and by group, a histogram of
p(1), the commonest generated answers, and the most confident mistakes."""

from __future__ import annotations

import numpy as np
import polars as pl

from w2s.columns import COMPLETIONS
from w2s.records.predictions import is_answer_table, read_predictions


def histogram(values: np.ndarray, bins: int = 10, width: int = 40) -> list[str]:
    # floor(p * bins) rather than np.histogram: its float edges put 0.3 into [0.2, 0.3)
    counts = np.bincount(np.clip(np.floor(values * bins).astype(int), 0, bins - 1), minlength=bins)
    scale = width / max(1, counts.max())
    return [
        f"  [{i / bins:.1f}, {(i + 1) / bins:.1f}{']' if i == bins - 1 else ')'} {count:6d} "
        f"{'#' * round(count * scale)}"
        for i, count in enumerate(counts)
    ]


def describe_labels(path: str, n_examples: int = 3) -> str:
    """Accuracy against ground truth, a histogram of p(1), and a few confident mistakes and hits."""
    table = read_predictions(path, "a labels file")
    if is_answer_table(table):
        return describe_answers(path, table, n_examples)
    metadata = pl.read_parquet_metadata(path)
    soft = table["soft_label"].to_numpy()
    confidence = np.abs(soft - 0.5) * 2
    lines = [f"{path}: {len(table)} examples"]
    lines += [
        f"  {key}: {value}"
        for key, value in sorted(metadata.items())
        if not key.startswith("ARROW")
    ]
    lines.append(f"accuracy against ground truth: {table['correct'].mean():.4f}")
    lines.append(
        f"share labelled 1: {table['hard_label'].mean():.4f} (ground truth: {table['label'].mean():.4f})"
    )
    lines.append(f"mean confidence |2p-1|: {confidence.mean():.4f}")
    groups = (
        table.group_by("group")
        .agg(pl.len().alias("n"), pl.col("correct").mean().alias("accuracy"))
        .sort("group")
    )
    if groups.height > 1:
        lines.append("accuracy by group:")
        lines += [
            f"  {row['group']}: {row['accuracy']:.4f} ({row['n']} examples)"
            for row in groups.iter_rows(named=True)
        ]
    lines.append("p(1) histogram:")
    lines += histogram(soft)
    ranked = table.with_columns(confidence=pl.Series(confidence)).sort(
        "confidence", descending=True
    )
    for title, rows in (
        ("most confident mistakes", ranked.filter(~pl.col("correct"))),
        ("most confident correct", ranked.filter(pl.col("correct"))),
    ):
        lines.append(f"{title}:")
        for row in rows.head(n_examples).iter_rows(named=True):
            text = row["text"].replace("\n", " ")
            if COMPLETIONS[0] in row:  # a comparison: p(1) is p(completion a preferred)
                a, b = (row[c][:40] for c in COMPLETIONS)
                text = f"{text[-60:]} | a: {a} | b: {b}"
            lines.append(
                f"  {row['id']}  label {row['label']}  p(1) {row['soft_label']:.3f}  {text[:100]!r}"
            )
    return "\n".join(lines)


def describe_answers(path: str, table: pl.DataFrame, n_examples: int = 3) -> str:
    """A generative task's labels (`table`, read from `path`): accuracy (exact match), how many answers a stop
    ended, the answer's mean probability, the commonest answers, and a few confident mistakes."""
    metadata = pl.read_parquet_metadata(path)
    lines = [f"{path}: {len(table)} examples (generated answers)"]
    lines += [f"  {k}: {v}" for k, v in sorted(metadata.items()) if not k.startswith("ARROW")]
    lines.append(f"accuracy against ground truth (exact match): {table['correct'].mean():.4f}")
    lines.append(f"answers ended by the stop string: {table['stopped'].mean():.4f}")
    if "legal" in table.columns:
        lines.append(f"answers that are not a legal move: {(~table['legal']).mean():.4f}")
    lines.append(
        f"mean probability of the answer: {np.exp(table['logprob'].to_numpy()).mean():.4f}"
    )
    common = table.group_by("generated").len().sort(["len", "generated"], descending=[True, False])
    lines.append(
        "commonest answers: "
        + ", ".join(
            f"{row['generated']!r} {row['len']}" for row in common.head(5).iter_rows(named=True)
        )
    )
    lines.append("most confident mistakes:")
    for row in (
        table.filter(~pl.col("correct")).sort("logprob", descending=True).head(n_examples)
    ).iter_rows(named=True):
        lines.append(
            f"  {row['id']}  answer {row['answer']!r}  generated {row['generated']!r}  "
            f"p {np.exp(row['logprob']):.3f}  {row['text'][-80:]!r}"
        )
    return "\n".join(lines)
