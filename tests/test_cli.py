"""The `w2s` command: labels files, the summary, comparing runs and checking configs from the shell."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest
import yaml
from metrics_records import metrics_record
from snakemake_helpers import tiny_config

from w2s.io import write_parquet


def labels_file(tmp_path):
    table = pl.DataFrame(
        {
            "id": ["t:0", "t:1", "t:2", "t:3"],
            "text": ["alpha", "beta", "gamma", "delta"],
            "label": [1, 0, 1, 0],
            "soft_label": [0.9, 0.2, 0.3, 0.95],
            "hard_label": [1, 0, 0, 1],
            "correct": [True, True, False, False],
            "group": ["true", "changed", "true", "changed"],
        }
    )
    path = tmp_path / "labels.parquet"
    write_parquet(table, path, {"dataset": "t", "weak_model": "tiny", "seed": 0})
    return path


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "w2s.cli", *args], capture_output=True, text=True)


def test_labels_summary(tmp_path):
    result = run_cli("labels", str(labels_file(tmp_path)), "-n", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "4 examples" in out and "weak_model: tiny" in out
    assert "accuracy against ground truth: 0.5000" in out
    assert "share labelled 1: 0.5000" in out
    assert "  changed: 0.5000 (2 examples)" in out and "  true: 0.5000 (2 examples)" in out
    # histogram: 0.2 and 0.3 in their own bins, 0.9 and 0.95 together in the last
    assert "[0.9, 1.0]      2" in out and "[0.2, 0.3)      1" in out and "[0.3, 0.4)      1" in out
    # the most confident mistake is delta (p = 0.95, label 0); the most confident hit is alpha
    mistakes = out.split("most confident mistakes:")[1].split("most confident correct:")
    assert "'delta'" in mistakes[0] and "'alpha'" in mistakes[1]


def test_labels_on_a_file_that_is_not_a_labels_file(tmp_path):
    path = tmp_path / "other.parquet"
    pl.DataFrame({"id": ["a"], "text": ["x"]}).write_parquet(path)
    result = run_cli("labels", str(path))
    assert result.returncode == 1
    assert (
        f"{path}: missing column(s) ['label', 'soft_label', 'hard_label', 'correct', 'group']"
        in result.stderr
    )


@pytest.mark.parametrize("command", ["labels", "summary"])
def test_a_path_where_nothing_is_is_named_as_missing_not_damaged(tmp_path, command):
    path = tmp_path / "nowhere" / "labels.parquet"
    result = run_cli(command, str(path))
    assert result.returncode == 1
    assert f"{path} is not there (no such file)" in result.stderr and "damaged" not in result.stderr


def test_summary_shows_cells_and_flags_suspicious_runs(tmp_path):
    from w2s.analysis.summary import runs_table

    records = [
        metrics_record("weak", "s", 0.6, seed=0),
        metrics_record("ceiling", "l", 0.9, seed=0),
        metrics_record("student", "l", 0.04, seed=0, weak="s", loss="xent"),
        metrics_record("weak", "s", 0.7, seed=1),
        metrics_record("ceiling", "l", 0.69, seed=1),
        metrics_record("student", "l", 0.72, seed=1, weak="s", loss="xent"),
    ]
    path = tmp_path / "results/summary/runs.parquet"
    path.parent.mkdir(parents=True)
    runs_table(records).write_parquet(path)
    result = run_cli("summary", str(path))
    assert result.returncode == 0, result.stderr
    assert (
        run_cli("summary", str(tmp_path / "results")).stdout == result.stdout
    )  # the results folder names it
    cell = next(line for line in result.stdout.splitlines() if line.startswith("d "))
    assert (
        cell.split()[:5] == ["d", "s", "l", "xent", "2"] and "-1.87" in cell
    )  # seed 0's PGR alone
    assert "2 flagged run(s):" in result.stdout
    assert "d seed 0, s -> l, xent: student below chance (0.040)" in result.stdout
    assert (
        "d seed 1, s -> l, xent: PGR undefined: ceiling 0.690 does not beat weak 0.700"
        in result.stdout
    )
    assert "imitation" not in result.stdout  # no agreement analysis in this folder
    assert "misfit" not in result.stdout  # none measured
    # a runs table from before misfit existed is read as one without it
    runs_table(records).drop("misfit").write_parquet(tmp_path / "old_runs.parquet")
    assert run_cli("summary", str(tmp_path / "old_runs.parquet")).stdout == result.stdout
    # each cell's mean misfit, where the students measured it
    measured = [
        {**r, "misfit": 0.25 + 0.1 * r["seed"]} if r["role"] == "student" else r for r in records
    ]
    runs_table(measured).write_parquet(tmp_path / "measured_runs.parquet")
    header, cell = run_cli("summary", str(tmp_path / "measured_runs.parquet")).stdout.splitlines()[
        :2
    ]
    assert header.split()[-1] == "misfit" and cell.split()[-1] == "0.30"
    # with the agreement analysis beside the summary, each cell's imitation (mean over seeds)
    from w2s.analysis.agreement import AGREEMENT_SCHEMA

    agreement = pl.DataFrame(
        [
            {
                "dataset": "d",
                "seed": seed,
                "weak": "s",
                "strong": "l",
                "role": "student",
                "loss": "xent",
                "chain": "",
                "n": 100,
                "agreement": 0.7,
                "n_weak_right": 60,
                "agreement_weak_right": 0.9,
                "n_weak_wrong": 40,
                "agreement_weak_wrong": wrong,
            }
            for seed, wrong in ((0, 0.8), (1, 0.6))
        ],
        schema=AGREEMENT_SCHEMA,
    )
    (tmp_path / "results/analysis").mkdir()
    agreement.write_parquet(tmp_path / "results/analysis/agreement.parquet")
    with_imitation = run_cli("summary", str(tmp_path / "results")).stdout
    header, cell = with_imitation.splitlines()[:2]
    assert header.split()[-1] == "imitation" and cell.split()[-1] == "0.70"
    assert "where that answer is wrong" in with_imitation
    bad = run_cli("summary", str(tmp_path / "missing.parquet"))
    assert bad.returncode == 1 and "missing.parquet" in bad.stderr
    bad = run_cli("summary", str(tmp_path))
    assert bad.returncode == 1 and "holds no summary/runs.parquet" in bad.stderr


def test_summary_gives_the_median_over_datasets(tmp_path):
    from w2s.analysis.summary import runs_table

    records = []
    for dataset, student in (
        ("a", 0.62),
        ("b", 0.65),
        ("c", 0.69),
    ):  # PGR 0.2, 0.5, 0.9 over a 0.6 -> 0.7 gap
        records += [
            {
                "dataset": dataset,
                "seed": 0,
                "role": "weak",
                "model": "s",
                "weak": None,
                "loss": None,
                "accuracy": 0.6,
                "n": 100,
            },
            {
                "dataset": dataset,
                "seed": 0,
                "role": "ceiling",
                "model": "l",
                "weak": None,
                "loss": None,
                "accuracy": 0.7,
                "n": 100,
            },
            {
                "dataset": dataset,
                "seed": 0,
                "role": "student",
                "model": "l",
                "weak": "s",
                "loss": "xent",
                "accuracy": student,
                "n": 100,
            },
        ]
    path = tmp_path / "runs.parquet"
    runs_table(records).write_parquet(path)
    result = run_cli("summary", str(path))
    assert result.returncode == 0, result.stderr
    assert "  s -> l, xent: 0.50 | 0.50 over 3 datasets" in result.stdout
    assert "zero-shot PGR" not in result.stdout  # no zero-shot score measured: no column

    for dataset in ("a", "b", "c"):  # the strong model untrained: 0.63, a PGR of 0.3 in each
        records.append({**records[1], "dataset": dataset, "role": "zero_shot", "accuracy": 0.63})
    runs_table(records).write_parquet(path)
    lines = run_cli("summary", str(path)).stdout.splitlines()
    assert lines[0].rstrip().endswith("PGR of means zero-shot PGR")
    assert [line.split()[-1] for line in lines if line.startswith(("a ", "b ", "c "))] == [
        "0.30"
    ] * 3


def test_inspecting_files_does_not_load_torch():
    """The CLI and the modules that merge, score, summarise and analyse predictions start in well under a second: no
    torch, no transformers (each costs seconds to import)."""
    modules = [
        "w2s.cli",
        "w2s.records.predictions",
        "w2s.analysis.summary",
        "w2s.analysis.plots",
        "w2s.analysis.analysis_plots",
        "w2s.analysis.agreement",
        "w2s.analysis.calibration",
        "w2s.analysis.trajectories",
        "w2s.analysis.scaling",
        "w2s.analysis.groups",
        "w2s.analysis.report_page",
        "w2s.pipeline.grid",
        "w2s.pipeline.config",
        "w2s.pipeline.cluster",
        "w2s.kinds",
    ]
    check = f"import sys; import {', '.join(modules)}; print(sorted({{'torch', 'transformers'}} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_check_passes_a_good_config_and_names_what_it_holds(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(tiny_config()))
    result = run_cli("check", str(path))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        == f"{path}: ok (1 dataset(s), 2 model(s), all pairs, 2 loss(es), 1 seed(s))"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "config file {path} cannot be read: No such file or directory"),
        (
            "seeds: [0\nmodels: {}\n",
            "config file {path} is not valid YAML at line 2, column 7: expected ',' or ']'",
        ),
        (
            "seeds: [0]\nseeds: [1]\n",
            "config file {path}: key 'seeds' appears twice in one mapping, at lines 1 and 2",
        ),
        (
            "- 1\n- 2\n",
            "config file {path}: expected a mapping of keys at the top level, found list",
        ),
        ("seeds: [0]\n", "config key (top level): 'datasets' is a required property"),
        (
            b"seeds: [0]\n# caf\xe9 (saved as Latin-1)\n",
            "config file {path} is not UTF-8 text: byte 0xe9 at line 2; save it as UTF-8",
        ),
    ],
    ids=["missing", "syntax", "duplicate_key", "not_a_mapping", "schema", "not_utf8"],
)
def test_check_names_the_file_and_line_snakemake_would_not(tmp_path, text, message):
    """Snakemake reads a --configfile before the workflow starts: for a missing file it prints a traceback, for a
    syntax error "not valid JSON or YAML" with no line. `w2s check` gives one sentence with the line."""
    path = tmp_path / "grid.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    result = run_cli("check", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("w2s: " + message.format(path=path)), result.stderr
    assert "Traceback" not in result.stderr


def predictions_file(path, hard: list[int], ids=None) -> str:
    labels = [1, 0, 1, 0]
    ids = ids or ["t:0", "t:1", "t:2", "t:3"]
    table = pl.DataFrame(
        {
            "id": ids,
            "text": ["a", "b", "c", "d"],
            "label": labels,
            "soft_label": [0.9 if h else 0.1 for h in hard],
            "hard_label": hard,
            "correct": [h == label for h, label in zip(hard, labels)],
            "group": ["true", "changed", "true", "changed"],
        }
    )
    path.mkdir()
    write_parquet(table, path / "test_predictions.parquet")
    return str(path)


def test_compare_gives_accuracy_and_agreement_overall_and_by_group(tmp_path):
    a = predictions_file(tmp_path / "a", [1, 0, 1, 1])  # right on 3: wrong on t:3 (changed)
    b = predictions_file(tmp_path / "b", [0, 0, 1, 1])  # right on 2: wrong on t:0 (true) and t:3
    result = run_cli("compare", a, f"{b}/test_predictions.parquet")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].split() == ["all", "4", "0.7500", "0.5000", "0.7500"]
    assert lines[4].split() == ["changed", "2", "0.5000", "0.5000", "1.0000"]
    assert lines[5].split() == ["true", "2", "1.0000", "0.5000", "0.5000"]
    assert lines[6] == "examples: both right 2, only A right 1, only B right 0, both wrong 1"


def test_compare_refuses_runs_of_different_examples_and_names_a_missing_folder(tmp_path):
    a = predictions_file(tmp_path / "a", [1, 0, 1, 1])
    b = predictions_file(tmp_path / "b", [1, 0, 1, 1], ids=["t:0", "t:1", "t:2", "u:3"])
    result = run_cli("compare", a, b)
    assert (
        result.returncode == 1
        and "predict different examples (4 and 4 rows, 3 shared ids)" in result.stderr
    )
    (tmp_path / "empty").mkdir()
    result = run_cli("compare", a, str(tmp_path / "empty"))
    assert result.returncode == 1 and "empty holds no test_predictions.parquet" in result.stderr
