"""Tests for w2s.analysis.summary (PGR tables) and w2s.analysis.plots (figures), on hand-built metrics records."""

import matplotlib.image
import numpy as np
import polars as pl
import pytest
from metrics_records import metrics_record

from w2s.analysis.plots import (
    accuracy_figure,
    plot_accuracy,
    plot_methods,
    plot_pgr,
    plot_pgr_by_task,
)
from w2s.analysis.summary import aggregate, flagged_runs, method_label, overall, runs_table
from w2s.errors import W2SError

ORDER = ["s", "m", "l"]

# Test accuracies by (dataset, seed): weak model "s", ceilings "m" and "l", students by (strong, loss).
ACC = {
    ("d1", 0): {
        "s": 0.60,
        "m": 0.80,
        "l": 0.90,
        ("m", "xent"): 0.70,
        ("m", "logconf"): 0.75,
        ("l", "xent"): 0.75,
        ("l", "logconf"): 0.84,
    },
    ("d1", 1): {
        "s": 0.62,
        "m": 0.82,
        "l": 0.92,
        ("m", "xent"): 0.72,
        ("m", "logconf"): 0.78,
        ("l", "xent"): 0.80,
        ("l", "logconf"): 0.86,
    },
    ("d2", 0): {
        "s": 0.50,
        "m": 0.70,
        "l": 0.60,
        ("m", "xent"): 0.55,
        ("m", "logconf"): 0.60,
        ("l", "xent"): 0.59,
        ("l", "logconf"): 0.56,
    },
    ("d2", 1): {
        "s": 0.50,
        "m": 0.70,
        "l": 0.60,
        ("m", "xent"): 0.57,
        ("m", "logconf"): 0.62,
        ("l", "xent"): 0.57,
        ("l", "logconf"): 0.58,
    },
}


# Extra keys mimic the real metrics files; the summary must ignore them.
EXTRA = {"auroc": 0.5, "train_time_s": 12.3, "config": {"lr": 1e-5}}


def make_records(acc=ACC):
    recs = []
    for (dataset, seed), accs in acc.items():
        for key, value in accs.items():
            if key == "s":
                recs.append(metrics_record("weak", "s", value, dataset=dataset, seed=seed, **EXTRA))
            elif isinstance(key, str):
                recs.append(
                    metrics_record("ceiling", key, value, dataset=dataset, seed=seed, **EXTRA)
                )
            else:
                recs.append(
                    metrics_record(
                        "student",
                        key[0],
                        value,
                        dataset=dataset,
                        seed=seed,
                        weak="s",
                        loss=key[1],
                        **EXTRA,
                    )
                )
    return recs[::-1]  # out of order on purpose: the table must sort itself


def row(frame, **keys):
    sub = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in keys.items()))
    assert sub.height == 1, keys
    return sub.row(0, named=True)


@pytest.fixture(scope="module")
def runs():
    return runs_table(make_records())


@pytest.fixture(scope="module")
def agg(runs):
    return aggregate(runs)


def test_runs_table_shape_and_order(runs):
    assert runs.columns == [
        "dataset",
        "weak",
        "strong",
        "loss",
        "chain",
        "generative",
        "mode",
        "early_stopping",
        "seed",
        "weak_acc",
        "ceiling_acc",
        "student_acc",
        "pgr",
        "weak_zero_shot_acc",
        "strong_zero_shot_acc",
        "weak_legal_rate",
        "ceiling_legal_rate",
        "student_legal_rate",
        "student_move_accuracy",
        "misfit",
        "few_shot_acc",
        "few_shot_weak_acc",
        "flags",
        "strong_to_strong",
    ]
    assert runs["weak_zero_shot_acc"].null_count() == runs.height  # no zero-shot records given
    assert runs["misfit"].null_count() == runs.height  # records from before misfit was measured
    assert runs["student_legal_rate"].null_count() == runs.height  # no chess answers
    assert not runs["strong_to_strong"].any()
    assert runs.height == 2 * 2 * 2 * 2  # datasets x seeds x strong models x losses
    assert runs.rows() == runs.sort("dataset", "weak", "strong", "loss", "seed").rows()
    assert runs.select("dataset", "strong", "loss", "seed").rows()[:3] == [
        ("d1", "l", "logconf", 0),
        ("d1", "l", "logconf", 1),
        ("d1", "l", "xent", 0),
    ]


def test_runs_table_values(runs):
    r = row(runs, dataset="d1", strong="l", loss="xent", seed=0)
    assert (r["weak"], r["weak_acc"], r["ceiling_acc"], r["student_acc"]) == ("s", 0.60, 0.90, 0.75)
    assert r["pgr"] == pytest.approx(0.5)  # (0.75 - 0.60) / (0.90 - 0.60)
    r = row(runs, dataset="d1", strong="l", loss="xent", seed=1)
    assert r["pgr"] == pytest.approx(0.6)  # (0.80 - 0.62) / (0.92 - 0.62)
    r = row(runs, dataset="d2", strong="m", loss="logconf", seed=0)
    assert (r["weak_acc"], r["ceiling_acc"]) == (0.50, 0.70)
    assert r["pgr"] == pytest.approx(0.5)  # (0.60 - 0.50) / (0.70 - 0.50)
    r = row(runs, dataset="d2", strong="l", loss="xent", seed=0)
    assert r["pgr"] == pytest.approx(0.9)  # (0.59 - 0.50) / (0.60 - 0.50)


def test_aggregate_mean_and_sem(agg):
    assert agg.height == 2 * 2 * 2
    r = row(agg, dataset="d1", weak="s", strong="l", loss="xent")
    assert r["n_seeds"] == 2
    # Two values a, b: mean (a + b) / 2; sample std |a - b| / sqrt(2), so sem = |a - b| / 2.
    assert r["pgr_mean"] == pytest.approx(0.55)
    assert r["pgr_sem"] == pytest.approx(0.05)
    assert r["weak_acc_mean"] == pytest.approx(0.61)
    assert r["weak_acc_sem"] == pytest.approx(0.01)
    assert r["ceiling_acc_mean"] == pytest.approx(0.91)
    assert r["student_acc_mean"] == pytest.approx(0.775)
    assert r["student_acc_sem"] == pytest.approx(0.025)
    r = row(agg, dataset="d2", weak="s", strong="l", loss="xent")
    assert r["pgr_mean"] == pytest.approx(0.8)  # pgr 0.9 and 0.7
    assert r["pgr_sem"] == pytest.approx(0.1)
    assert r["ceiling_acc_sem"] == pytest.approx(0.0)


def test_aggregate_single_seed_has_null_sem():
    one_seed = {k: v for k, v in ACC.items() if k[1] == 0}
    agg = aggregate(runs_table(make_records(one_seed)))
    assert (agg["n_seeds"] == 1).all()
    for col in ["weak_acc", "ceiling_acc", "student_acc", "pgr"]:
        assert agg[f"{col}_sem"].is_null().all()
        assert agg[f"{col}_mean"].is_not_null().all()


def test_pgr_null_when_ceiling_equals_weak():
    recs = [
        metrics_record("weak", "s", 0.7, dataset="d", seed=0, **EXTRA),
        metrics_record("ceiling", "m", 0.7, dataset="d", seed=0, **EXTRA),
        metrics_record("student", "m", 0.72, dataset="d", seed=0, weak="s", loss="xent", **EXTRA),
    ]
    runs = runs_table(recs)
    assert runs["pgr"].to_list() == [None]
    agg = aggregate(runs)
    assert agg["pgr_mean"].to_list() == [None] and agg["pgr_sem"].to_list() == [None]


def seeds_of(accuracies: list[tuple[float, float, float]]) -> list[dict]:
    """Records of one cell over seeds: (weak, ceiling, student) accuracy per seed."""
    recs = []
    for seed, (weak, ceiling, student) in enumerate(accuracies):
        recs += [
            metrics_record("weak", "s", weak, dataset="d", seed=seed, **EXTRA),
            metrics_record("ceiling", "l", ceiling, dataset="d", seed=seed, **EXTRA),
            metrics_record(
                "student", "l", student, dataset="d", seed=seed, weak="s", loss="xent", **EXTRA
            ),
        ]
    return recs


def test_pgr_undefined_and_flagged_when_the_ceiling_is_below_weak():
    """Weak 0.70, ceiling 0.69: the ratio would be -2.0 and drag the mean; it is undefined and flagged instead, and
    the mean covers the other seeds only."""
    runs = runs_table(seeds_of([(0.70, 0.69, 0.72), (0.60, 0.80, 0.70), (0.60, 0.80, 0.75)]))
    assert runs["pgr"].to_list() == [None, pytest.approx(0.5), pytest.approx(0.75)]
    assert runs["flags"].to_list() == ["ceiling_not_above_weak", "", ""]
    r = aggregate(runs).row(0, named=True)
    assert r["pgr_mean"] == pytest.approx(0.625) and r["n_pgr_undefined"] == 1
    assert any("PGR undefined" in line and "seed 0" in line for line in flagged_runs(runs))


def test_pgr_of_means_is_the_papers_form_beside_the_mean_of_pgrs():
    runs = runs_table(seeds_of([(0.60, 0.70, 0.69), (0.60, 0.90, 0.63)]))  # PGRs 0.9 and 0.1
    r = aggregate(runs).row(0, named=True)
    assert r["pgr_mean"] == pytest.approx(0.5)
    assert r["pgr_of_means"] == pytest.approx((0.66 - 0.60) / (0.80 - 0.60))  # 0.3
    assert overall(aggregate(runs))["pgr_of_means_median"].to_list() == [pytest.approx(0.3)]
    no_gap = aggregate(runs_table(seeds_of([(0.70, 0.69, 0.72)]))).row(0, named=True)
    assert no_gap["pgr_of_means"] is None and no_gap["pgr_mean"] is None


def test_student_below_chance_is_flagged():
    runs = runs_table(seeds_of([(0.60, 0.90, 0.04), (0.60, 0.90, 0.80)]))
    assert runs["flags"].to_list() == ["student_below_chance", ""]
    assert aggregate(runs)["n_below_chance"].to_list() == [1]
    assert flagged_runs(runs) == [
        "d seed 0, s -> l, xent: student below chance (0.040): it learnt the inverted rule"
    ]


def test_generated_answers_have_no_chance_level_to_fall_below():
    """Exact match on generated answers (metrics with chance None): a student at 0.04 is a weak result, not an
    inverted rule."""
    recs = [{**r, "chance": None} for r in seeds_of([(0.02, 0.30, 0.04)])]
    runs = runs_table(recs)
    assert runs["flags"].to_list() == [""]
    assert aggregate(runs)["n_below_chance"].to_list() == [0]
    assert flagged_runs(runs) == []


def test_missing_ceiling_raises():
    recs = [
        r
        for r in make_records()
        if not (
            r["role"] == "ceiling" and r["dataset"] == "d2" and r["seed"] == 1 and r["model"] == "l"
        )
    ]
    with pytest.raises(W2SError, match=r"ceiling.*'d2'.*seed 1.*'l'"):
        runs_table(recs)


def test_missing_weak_raises():
    recs = [
        r
        for r in make_records()
        if not (r["role"] == "weak" and r["dataset"] == "d1" and r["seed"] == 0)
    ]
    with pytest.raises(W2SError, match=r"weak.*'d1'.*seed 0.*'s'"):
        runs_table(recs)


def test_overall_median(agg):
    out = overall(agg)
    assert out.columns == [
        "weak",
        "strong",
        "loss",
        "chain",
        "generative",
        "mode",
        "early_stopping",
        "n_datasets",
        "n_datasets_pgr_undefined",
        "pgr_median",
        "pgr_of_means_median",
    ]
    r = row(out, weak="s", strong="l", loss="xent")
    assert r["n_datasets"] == 2
    assert r["pgr_median"] == pytest.approx((0.55 + 0.8) / 2)  # median of two = their mean
    # Three datasets: the median is the middle value, not the mean (0.5 vs 0.5333).
    three = pl.DataFrame(
        {
            "dataset": ["a", "b", "c"],
            "weak": ["s"] * 3,
            "strong": ["l"] * 3,
            "loss": ["xent"] * 3,
            "chain": [""] * 3,
            "generative": [False] * 3,
            "mode": ["finetune"] * 3,
            "early_stopping": ["none"] * 3,
            "pgr_mean": [0.2, 0.9, 0.5],
            "pgr_of_means": [0.1, 0.3, 0.2],
        }
    )
    assert overall(three)["pgr_median"].to_list() == [pytest.approx(0.5)]
    # A dataset whose PGR is undefined (no gap) is not one the median is over: counted apart.
    no_gap = (
        pl.when(pl.col("dataset") == "b").then(None).otherwise(pl.col("pgr_mean")).alias("pgr_mean")
    )
    undefined = overall(three.with_columns(no_gap))
    counts = undefined.select("n_datasets", "n_datasets_pgr_undefined", "pgr_median").row(0)
    assert counts == (2, 1, pytest.approx(0.35))


def assert_png(path):
    assert path.exists() and path.stat().st_size > 0
    image = matplotlib.image.imread(path)
    assert (
        image.ndim == 3
        and image.shape[0] > 100
        and image.shape[1] > 100
        and image.shape[2] in (3, 4)
    )


@pytest.mark.parametrize("seeds", [(0, 1), (0,)], ids=["multi_seed", "single_seed"])
def test_plots_write_png(tmp_path, seeds):
    agg = aggregate(runs_table(make_records({k: v for k, v in ACC.items() if k[1] in seeds})))
    plot_accuracy(agg, "d1", ORDER, tmp_path / "acc" / "d1.png")
    plot_pgr(agg, "xent", ORDER, tmp_path / "pgr" / "xent.png")
    assert_png(tmp_path / "acc" / "d1.png")
    assert_png(tmp_path / "pgr" / "xent.png")


def test_accuracy_legends_leave_every_data_point_visible():
    """A panel with one strong model puts its points in the middle of the axes, where a legend inside sat."""
    agg = aggregate(runs_table(make_records())).filter(pl.col("strong") == "m")
    fig = accuracy_figure(agg, "d2", ORDER)
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    for ax in fig.axes:
        # outside the axes, where no data point can be
        assert (
            not ax.get_legend().get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
        )


def test_plots_single_strong_model(tmp_path):
    agg = aggregate(runs_table(make_records())).filter(pl.col("strong") == "m")
    plot_accuracy(agg, "d2", ORDER, tmp_path / "acc.png")
    plot_pgr(agg, "logconf", ORDER, tmp_path / "pgr.png")
    assert_png(tmp_path / "acc.png")
    assert_png(tmp_path / "pgr.png")


def test_pgr_by_task_has_a_row_per_task_for_two_dozen_tasks(tmp_path):
    """The paper's 22 tasks and two more, three pairs, one with an undefined PGR on one task: one readable row per
    task (the figure grows with the tasks) plus the median row."""
    rng = np.random.default_rng(0)
    pairs = [("s", "m"), ("s", "l"), ("m", "l")]
    rows = [
        {
            "dataset": f"task{t:02d}",
            "weak": w,
            "strong": st,
            "loss": "xent",
            "pgr_mean": None if (t, w, st) == (3, "s", "l") else float(rng.uniform(-0.2, 1.1)),
            "pgr_sem": float(rng.uniform(0, 0.1)),
        }
        for t in range(24)
        for w, st in pairs
    ]
    agg = pl.DataFrame(rows)
    plot_pgr_by_task(agg, "xent", ORDER, tmp_path / "many.png")
    plot_pgr_by_task(agg.filter(pl.col("dataset") < "task03"), "xent", ORDER, tmp_path / "few.png")
    many, few = (matplotlib.image.imread(tmp_path / f"{name}.png") for name in ("many", "few"))
    assert (
        many.shape[0] > 24 * 0.3 * 120 and many.shape[0] > 2.5 * few.shape[0]
    )  # rows keep their height
    with pytest.raises(W2SError, match="'product'"):
        plot_pgr_by_task(agg, "product", ORDER, tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def test_methods_side_by_side_have_a_bar_each_and_labels_that_name_the_method(tmp_path):
    base = {
        "weak": "s",
        "strong": "l",
        "loss": "xent",
        "chain": "",
        "generative": False,
        "mode": "finetune",
        "early_stopping": "none",
        "n_datasets": 1,
        "pgr_of_means_median": None,
    }
    variants = [
        {},
        {"early_stopping": "oracle"},
        {"chain": "s+m+l"},
        {"mode": "probe"},
        {"generative": True},
        {"weak": "l"},
    ]
    overall = pl.DataFrame([{**base, **v, "pgr_median": 0.1 * i} for i, v in enumerate(variants)])
    assert [method_label(r) for r in overall.iter_rows(named=True)] == [
        "finetune, final model",
        "early stop oracle",
        "chain s+m+l",
        "linear probe",
        "generative finetuning first",
        "strong-to-strong",
    ]
    plot_methods(overall, "xent", ORDER, tmp_path / "methods.png")
    assert matplotlib.image.imread(tmp_path / "methods.png").shape[0] > 6 * 0.3 * 120


def test_plot_unknown_dataset_raises(agg, tmp_path):
    with pytest.raises(W2SError, match="nope"):
        plot_accuracy(agg, "nope", ORDER, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_zero_shot_records_join_by_dataset_seed_and_model():
    records = make_records()
    for dataset in ("d1", "d2"):
        for seed in (0, 1):
            records.append(
                {
                    "dataset": dataset,
                    "seed": seed,
                    "role": "zero_shot",
                    "model": "s",
                    "weak": None,
                    "loss": None,
                    "accuracy": 0.55 + seed / 100,
                    "auroc": 0.6,
                    "n": 100,
                }
            )
            records.append(
                {
                    "dataset": dataset,
                    "seed": seed,
                    "role": "zero_shot",
                    "model": "l",
                    "weak": None,
                    "loss": None,
                    "accuracy": 0.95,
                    "auroc": 0.99,
                    "n": 100,
                }
            )
    runs = runs_table(records)
    large = runs.filter(pl.col("strong") == "l")
    assert large["strong_zero_shot_acc"].to_list() == [0.95] * large.height
    assert runs.filter(pl.col("strong") == "m")["strong_zero_shot_acc"].null_count() == large.height
    assert sorted(set(runs["weak_zero_shot_acc"].to_list())) == [0.55, 0.56]
    agg = aggregate(runs)
    assert agg["weak_zero_shot_acc_mean"].to_list() == pytest.approx([0.555] * agg.height)
    assert agg["weak_zero_shot_acc_sem"].to_list() == pytest.approx([0.005] * agg.height)


def test_zero_shot_pgr_is_the_strong_models_untrained_answer_as_a_pgr():
    records = make_records()
    for seed, accuracy in ((0, 0.70), (1, 0.80)):
        records.append(
            {
                "dataset": "d1",
                "seed": seed,
                "role": "zero_shot",
                "model": "l",
                "weak": None,
                "loss": None,
                "accuracy": accuracy,
                "auroc": 0.8,
                "n": 100,
            }
        )
    agg = aggregate(runs_table(records))
    large = agg.filter((pl.col("dataset") == "d1") & (pl.col("strong") == "l")).row(0, named=True)
    # weak 0.60 / 0.62, ceiling 0.90 / 0.92: per seed (0.70 - 0.60) / 0.30 and (0.80 - 0.62) / 0.30
    assert large["zero_shot_pgr_mean"] == pytest.approx((0.10 / 0.30 + 0.18 / 0.30) / 2)
    assert large["zero_shot_pgr_of_means"] == pytest.approx((0.75 - 0.61) / (0.91 - 0.61))
    unmeasured = agg.filter(pl.col("strong") == "m")
    assert unmeasured["zero_shot_pgr_of_means"].null_count() == unmeasured.height
    assert unmeasured["zero_shot_pgr_mean"].null_count() == unmeasured.height


def test_the_reports_headline_gives_the_pgr_of_the_means_first():
    from w2s.analysis.report_page import headline

    runs = runs_table(make_records())
    agg = aggregate(runs)
    text = "\n".join(headline(agg, overall(agg), runs))
    header = text.split("* - dataset", 1)[1].split("* -", 1)[0]
    assert [cell.strip() for cell in header.split("- ")[-5:]] == [
        "zero-shot (weak / strong)",
        "PGR",
        "PGR per seed (mean ± sem)",
        "zero-shot PGR",
        "imitation (ceiling)",
    ]
    row = agg.filter(
        (pl.col("dataset") == "d1") & (pl.col("strong") == "l") & (pl.col("loss") == "xent")
    )
    r = row.row(0, named=True)
    assert (
        f"     - {r['pgr_of_means']:.2f}\n     - {r['pgr_mean']:.2f} ± {r['pgr_sem']:.2f}\n     - \n"
        in text
    )
    assert "median PGR" in text and "median of per-seed PGRs" in text


def test_the_reports_headline_shows_imitation_and_a_table_of_pgr_per_group():
    from w2s.analysis.agreement import IMITATION_SCHEMA
    from w2s.analysis.groups import GROUP_PGR_SCHEMA
    from w2s.analysis.report_page import group_section, headline

    runs = runs_table(make_records())
    agg = aggregate(runs)
    first = agg.row(0, named=True)
    cell = {k: first[k] for k in ("dataset", "weak", "strong", "loss", "chain")}
    imitation = pl.DataFrame(
        [
            {
                **cell,
                "n_seeds": 2,
                "imitation_mean": 0.9,
                "imitation_sem": 0.02,
                "ceiling_imitation_mean": 0.05,
            }
        ],
        schema=IMITATION_SCHEMA,
    )
    text = "\n".join(headline(agg, overall(agg), runs, imitation))
    header = text.split("* - dataset", 1)[1].split("* -", 1)[0]
    assert header.rstrip().endswith("- imitation (ceiling)")
    assert text.count("0.90 (0.05)") == 1  # the one cell given, the others empty

    def group_row(dataset, group, weak, student):
        return {
            **cell,
            "dataset": dataset,
            "group": group,
            "n_seeds": 2,
            "n": 10.0,
            "weak_acc_mean": weak,
            "ceiling_acc_mean": 1.0,
            "student_acc_mean": student,
            "pgr_of_means": (student - weak) / (1.0 - weak),
        }

    groups = pl.DataFrame(
        [
            group_row("d1", "exception", 0.5, 0.6),
            group_row("d1", "regular", 0.8, 0.95),
            group_row("d2", "all", 0.7, 0.8),
        ],
        schema=GROUP_PGR_SCHEMA,
    )
    section = "\n".join(group_section(groups))
    assert (
        "     - exception\n     - 10\n     - 0.500\n     - 1.000\n     - 0.600\n     - 0.20"
        in section
    )
    assert "     - 0.75" in section  # regular: (0.95 - 0.8) / 0.2
    assert "d2" not in section  # one group only: the headline says it all
    assert group_section(groups.filter(pl.col("dataset") == "d2")) == []


def test_chess_runs_carry_each_models_legal_rate_and_the_students_move_accuracy(tmp_path):
    records = [
        metrics_record("weak", "s", 0.1, legal_rate=0.8, dataset="c", n=50, chance=None),
        metrics_record("ceiling", "l", 0.4, legal_rate=0.98, dataset="c", n=50, chance=None),
        metrics_record(
            "student",
            "l",
            0.2,
            legal_rate=0.9,
            dataset="c",
            n=50,
            chance=None,
            weak="s",
            loss="xent",
            move_accuracy=0.24,
        ),
    ]
    runs = runs_table(records)
    r = runs.row(0, named=True)
    assert (r["weak_legal_rate"], r["ceiling_legal_rate"], r["student_legal_rate"]) == (
        0.8,
        0.98,
        0.9,
    )
    assert r["student_move_accuracy"] == 0.24
    assert aggregate(runs)["student_move_accuracy_mean"].to_list() == [0.24]
    path = tmp_path / "runs.parquet"
    runs.write_parquet(path)
    from test_cli import run_cli

    out = run_cli("summary", str(path)).stdout
    header, cell = out.splitlines()[:2]
    assert header.endswith("legal (weak/ceiling/student)") and cell.endswith("0.80/0.98/0.90")
    # a runs table written before the columns existed still reads
    runs.drop(
        "weak_legal_rate", "ceiling_legal_rate", "student_legal_rate", "student_move_accuracy"
    ).write_parquet(path)
    older = run_cli("summary", str(path))
    assert older.returncode == 0 and "legal" not in older.stdout


def test_t_interval_half_width_by_number_of_values():
    from w2s.analysis.summary import t95_half_width

    assert t95_half_width(0.1, 5) == pytest.approx(
        0.2776
    )  # 4 degrees of freedom: five pretraining seeds
    assert t95_half_width(0.1, 2) == pytest.approx(1.2706)
    assert t95_half_width(0.1, 31) == pytest.approx(0.2042)
    assert t95_half_width(0.1, 100) == pytest.approx(0.196)
    assert t95_half_width(None, 5) is None and t95_half_width(0.1, 1) is None
