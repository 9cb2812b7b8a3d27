"""The whole workflow, run for real by Snakemake on a tiny grid: outputs, and what a change makes it rerun."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest
from snakemake_helpers import REPORTING, planned_jobs, snakemake, tiny_config, write_config
from tolerance import assert_predictions_close, auroc_slack

pytestmark = pytest.mark.workflow

PREDICTION_COLUMNS = ["id", "text", "label", "soft_label", "hard_label", "correct", "group"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A working directory in which the tiny grid has run to completion."""
    workdir = tmp_path_factory.mktemp("pipeline")
    write_config(workdir, tiny_config())
    snakemake(workdir, "--cores", "2")
    return workdir


def test_full_run_writes_every_stage(finished):
    data = finished / "results/data/toy/seed0"
    splits = {
        name: pl.read_parquet(data / f"{name}.parquet")
        for name in ("weak_train", "strong_train", "test")
    }
    assert {name: len(frame) for name, frame in splits.items()} == {
        "weak_train": 48,
        "strong_train": 48,
        "test": 32,
    }
    ids = [set(frame["id"]) for frame in splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert all(frame["label"].sum() == len(frame) // 2 for frame in splits.values())
    split_meta = pl.read_parquet_metadata(data / "test.parquet")
    assert split_meta["split"] == "test" and split_meta["duplicate_texts_dropped"] == "0"

    labels_path = finished / "results/labels/toy/seed0/weakling.parquet"
    labels = pl.read_parquet(labels_path)
    assert labels.columns == PREDICTION_COLUMNS
    assert labels["id"].to_list() == splits["strong_train"]["id"].to_list()
    meta = pl.read_parquet_metadata(labels_path)
    assert meta["dataset"] == "toy" and meta["weak_model"] == "weakling" and meta["seed"] == "0"
    assert len(meta["checkpoint_sha256"]) == 64 and meta["code_version"].startswith("0.")

    for run in (
        "weak/toy/seed0/weakling",
        "ceiling/toy/seed0/strongling",
        "student/toy/seed0/weakling/strongling/xent",
        "student/toy/seed0/weakling/strongling/logconf",
    ):
        folder = finished / "results" / run
        metrics = json.loads((folder / "metrics.json").read_text())
        predictions = pl.read_parquet(folder / "test_predictions.parquet")
        assert metrics["n"] == 32 and metrics["accuracy"] == pytest.approx(
            predictions["correct"].mean()
        )
        assert (folder / "checkpoint/model.safetensors").exists() and (
            folder / "checkpoint/head.safetensors"
        ).exists()
        trajectory = [
            json.loads(line) for line in (folder / "trajectory.jsonl").read_text().splitlines()
        ]
        assert trajectory[-1]["step"] == metrics["steps"] and "test_accuracy" in trajectory[-1]
        assert (finished / "benchmarks" / (run + ".tsv")).exists()

    runs = pl.read_csv(finished / "results/summary/runs.csv")
    assert runs.height == 2 and sorted(runs["loss"]) == ["logconf", "xent"]
    # each student's misfit to its weak labels on its training rows: a KL, positive (soft labels are never fitted
    # exactly), finite; runs on ground truth have none
    assert ((runs["misfit"] > 0) & runs["misfit"].is_finite()).all()
    assert "misfit" not in json.loads(
        (finished / "results/weak/toy/seed0/weakling/metrics.json").read_text()
    )
    for row in runs.iter_rows(named=True):
        if row["ceiling_acc"] > row["weak_acc"]:
            expected = (row["student_acc"] - row["weak_acc"]) / (
                row["ceiling_acc"] - row["weak_acc"]
            )
            assert row["pgr"] == pytest.approx(expected)
        else:  # the tiny grid's models learn little: no gap to recover is a flagged, undefined PGR
            assert row["pgr"] is None and "ceiling_not_above_weak" in row["flags"]
    assert pl.read_parquet(finished / "results/summary/aggregate.parquet").height == 2
    for plot in ("accuracy_toy", "pgr_xent", "pgr_logconf"):
        assert (finished / f"results/plots/{plot}.png").stat().st_size > 1000


def test_nothing_to_do_after_a_full_run(finished):
    assert planned_jobs(finished) == {}


def test_student_only_change_reruns_students_and_summary(finished):
    config = tiny_config()
    config["losses"]["logconf"]["alpha_max"] = 0.75
    write_config(finished, config, "student_change.yaml")
    assert planned_jobs(finished, "student_change.yaml") == {"train_student": 1, **REPORTING}


def test_weak_model_change_reruns_weak_side_not_ceiling(finished):
    config = tiny_config()
    config["models"]["weakling"]["lr"] = 2e-3
    write_config(finished, config, "weak_change.yaml")
    assert planned_jobs(finished, "weak_change.yaml") == {
        "train_weak": 1,
        "train_student": 2,
        **REPORTING,
    }


def test_deleted_label_file_reruns_only_its_dependents(finished):
    labels = finished / "results/labels/toy/seed0/weakling.parquet"
    before = pl.read_parquet(labels)
    labels.unlink()
    # Unsharded labelling is part of the weak training job: it trains again (the same weights) and relabels.
    assert planned_jobs(finished) == {"train_weak": 1, "train_student": 2, **REPORTING}
    snakemake(finished, "--cores", "2")
    # Retraining and relabelling run the same kernels on the same batches: the same labels, bit for bit.
    assert pl.read_parquet(labels).equals(before)
    assert planned_jobs(finished) == {}


def test_report_includes_plots_and_tables(finished):
    snakemake(finished, "--report", "report.html", "--cores", "1")
    html = (finished / "report.html").read_text(errors="replace")
    assert "accuracy_toy.png" in html and "pgr_xent.png" in html and "aggregate.csv" in html
    # each student's imitation beside the headline; no table of PGR per group where the examples have one group
    assert "imitation (ceiling)" in html and "PGR per group" not in html


@pytest.mark.kernel_sensitive
def test_sharded_labelling_gives_the_same_labels(finished, tmp_path):
    """Reproducibility: a second working directory with the same settings trains the same weak model, bit for bit
    (the same kernels on the same batches). Three labelling jobs over row ranges of its labelling, merged, equal the
    one-job labels to float32 rounding: a shard's batches pad to other lengths than the whole split's."""
    write_config(tmp_path, tiny_config(labelling={"shards": 3}))
    assert planned_jobs(tmp_path)["label_strong_train"] == 3
    labels = "results/labels/toy/seed0/weakling.parquet"
    snakemake(tmp_path, "--cores", "2", labels)
    sharded, whole = (root / labels for root in (tmp_path, finished))
    assert (
        pl.read_parquet_metadata(sharded)["checkpoint_sha256"]
        == pl.read_parquet_metadata(whole)["checkpoint_sha256"]
    )
    assert_predictions_close(pl.read_parquet(sharded), pl.read_parquet(whole))
    shutil.rmtree(tmp_path / "results")


@pytest.mark.kernel_sensitive
def test_sharded_test_predictions_match_the_training_jobs(finished, tmp_path):
    """Three prediction jobs per run over row ranges of the test split, merged and scored, give the predictions and
    metrics that the training jobs write when they predict themselves. Soft labels agree to float32 rounding only:
    a shard's batches pad to other lengths than the whole split's."""
    config = tiny_config(labelling={"test_shards": 3})
    # Switching a finished grid to sharded test predictions redoes the predictions, not the training.
    write_config(finished, config, "test_shards.yaml")
    assert planned_jobs(finished, "test_shards.yaml") == {
        "predict_weak_test": 3,
        "predict_ceiling_test": 3,
        "predict_student_test": 6,
        "score_weak_run": 1,
        "score_ceiling_run": 1,
        "score_student_run": 2,
        **REPORTING,
    }
    write_config(tmp_path, config)
    runs = (
        "weak/toy/seed0/weakling",
        "ceiling/toy/seed0/strongling",
        "student/toy/seed0/weakling/strongling/logconf",
    )
    snakemake(tmp_path, "--cores", "2", *(f"results/{run}/metrics.json" for run in runs))
    for run in runs:
        sharded = pl.read_parquet(tmp_path / f"results/{run}/test_predictions.parquet")
        whole = pl.read_parquet(finished / f"results/{run}/test_predictions.parquet")
        undecided = assert_predictions_close(sharded, whole)
        got, expected = (
            json.loads((root / f"results/{run}/metrics.json").read_text())
            for root in (tmp_path, finished)
        )
        assert got.keys() == expected.keys()
        exact = ("n", "steps", "n_train", "n_train_truncated", "n_test_truncated", "role", "loss")
        assert {k: got[k] for k in exact} == {k: expected[k] for k in exact}
        assert abs(got["accuracy"] - expected["accuracy"]) <= undecided / expected["n"]
        assert abs(got["auroc"] - expected["auroc"]) <= auroc_slack(whole) + 1e-12
        assert not (
            tmp_path / f"results/{run}/test_predictions.shards"
        ).exists()  # temporary, gone once merged
    shutil.rmtree(tmp_path / "results")


def test_checkpoints_no_stage_reads_are_deleted_by_default(tmp_path):
    """keep_checkpoints false: the ceiling's and students' checkpoints go once their test predictions (and a
    chain's labels) exist; the weak model's stays, and the results are those of a run that keeps them all."""
    config = tiny_config(keep_checkpoints=False, seeds=[0])
    config["models"]["third"] = {
        **config["models"]["strongling"],
        "build": {**config["models"]["strongling"]["build"], "num_layers": 2},
    }
    config.update(
        pairs=[{"weak": "weakling", "strong": "strongling"}],
        chains=[["weakling", "strongling", "third"]],
        losses={"xent": {"type": "xent"}},
    )
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    results = tmp_path / "results"
    assert (results / "weak/toy/seed0/weakling/checkpoint/model.safetensors").exists()
    for run in (
        "ceiling/toy/seed0/strongling",
        "ceiling/toy/seed0/third",
        "student/toy/seed0/weakling/strongling/xent",
        "student/toy/seed0/weakling/third/xent",
        "chain/toy/seed0/weakling+strongling+third/xent/third",
    ):
        assert (results / run / "metrics.json").exists() and not (
            results / run / "checkpoint"
        ).exists(), run
    assert (
        results / "labels/toy/seed0/chain/weakling+strongling+third/xent/strongling.parquet"
    ).exists()
    assert planned_jobs(tmp_path) == {}  # deleted checkpoints are not missing results
    runs = pl.read_parquet(results / "summary/runs.parquet")
    assert runs.height == 3 and runs["student_acc"].is_not_null().all()


def test_progress_settings_rerun_nothing(finished):
    """log_every, checkpoint_every, threads and gradient checkpointing change how a run reports, saves progress and
    uses the CPU and memory, not its result."""
    config = tiny_config()
    config["training"].update(log_every=3, checkpoint_every=7)
    for entry in config["models"].values():
        entry.update(threads=2, gradient_checkpointing=True)
    write_config(finished, config, "progress_change.yaml")
    assert planned_jobs(finished, "progress_change.yaml") == {}


def test_gradient_checkpointing_recomputes_and_gives_the_same_run(finished, tmp_path):
    config = tiny_config()
    config["models"]["strongling"]["gradient_checkpointing"] = True
    write_config(tmp_path, config)
    run = "results/ceiling/toy/seed0/strongling"
    snakemake(tmp_path, "--cores", "1", f"{run}/metrics.json")
    log = (tmp_path / "logs/ceiling/toy/seed0/strongling.log").read_text()
    assert "gradient checkpointing: 1 layers recomputed" in log
    recomputed, kept = (
        pl.read_parquet(root / run / "test_predictions.parquet") for root in (tmp_path, finished)
    )
    assert recomputed["soft_label"].to_list() == kept["soft_label"].to_list()


def test_a_model_paired_with_itself_is_the_strong_to_strong_control(tmp_path):
    """The paper's control for "weak-to-strong or self-training?": the strong model learns from the labels of its
    own weak run (same model, trained on weak_train); the summary marks such rows."""
    config = tiny_config(
        pairs=[
            {"weak": "strongling", "strong": "strongling"},
            {"weak": "weakling", "strong": "strongling"},
        ]
    )
    config["losses"] = {"xent": {"type": "xent"}}
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2")
    runs = pl.read_parquet(tmp_path / "results/summary/runs.parquet")
    assert sorted(zip(runs["weak"], runs["strong"], runs["strong_to_strong"])) == [
        ("strongling", "strongling", True),
        ("weakling", "strongling", False),
    ]
    labels = pl.read_parquet_metadata(tmp_path / "results/labels/toy/seed0/strongling.parquet")
    assert labels["weak_model"] == "strongling"
    student = json.loads(
        (tmp_path / "results/student/toy/seed0/strongling/strongling/xent/metrics.json").read_text()
    )
    self_row = runs.filter(pl.col("strong_to_strong")).row(0, named=True)
    assert self_row["student_acc"] == student["accuracy"]


def test_the_agreement_analysis_covers_every_student_and_ceiling(finished):
    table = pl.read_parquet(finished / "results/analysis/agreement.parquet")
    assert sorted(zip(table["role"], table["loss"])) == [
        ("ceiling", ""),
        ("student", "logconf"),
        ("student", "xent"),
    ]
    weak = pl.read_parquet(finished / "results/weak/toy/seed0/weakling/test_predictions.parquet")
    student = pl.read_parquet(
        finished / "results/student/toy/seed0/weakling/strongling/xent/test_predictions.parquet"
    )
    row = table.filter(pl.col("loss") == "xent").row(0, named=True)
    assert row["agreement"] == pytest.approx((student["hard_label"] == weak["hard_label"]).mean())
    assert row["n_weak_right"] == weak["correct"].sum() and row["n"] == 32
    assert (finished / "results/plots/agreement_toy.png").stat().st_size > 1000


def test_the_calibration_analysis_covers_every_predictions_file(finished):
    table = pl.read_parquet(finished / "results/analysis/calibration.parquet")
    assert sorted(zip(table["role"], table["model"], table["loss"])) == [
        ("ceiling", "strongling", ""),
        ("student", "strongling", "logconf"),
        ("student", "strongling", "xent"),
        ("weak", "weakling", ""),
        ("weak_labels", "weakling", ""),
    ]
    assert table.filter(pl.col("role") == "weak_labels")["n"].item() == 48
    assert table["ece_p1"].is_between(0, 1).all() and table["ece_top_label"].is_between(0, 1).all()
    assert (finished / "results/plots/calibration_toy.png").stat().st_size > 1000


def test_the_trajectories_give_agreement_with_the_weak_model(finished):
    """A run's last evaluation records its test answers; their agreement with the weak model's is the one that the
    agreement analysis computes from both predictions files: two paths, one number."""
    table = pl.read_parquet(finished / "results/analysis/trajectories.parquet")
    agreement = pl.read_parquet(finished / "results/analysis/agreement.parquet")
    for run, loss in (("student", "xent"), ("student", "logconf"), ("ceiling", "")):
        rows = table.filter((pl.col("role") == run) & (pl.col("loss") == loss)).sort("step")
        assert rows["progress"][-1] == 1.0 and rows["step"].is_sorted() and rows.height >= 2
        expected = agreement.filter((pl.col("role") == run) & (pl.col("loss") == loss))[
            "agreement"
        ].item()
        assert rows["test_agreement"][-1] == pytest.approx(expected)
        assert (
            rows["train_agreement"].is_between(0, 1).all()
            and rows["train_agreement"].null_count() == 0
        )
    assert (finished / "results/plots/trajectories_toy.png").stat().st_size > 1000


def test_the_scaling_view_reads_sizes_from_the_checkpoints(finished):
    from w2s.models.classifier import Classifier

    table = pl.read_parquet(finished / "results/analysis/scaling.parquet")
    assert sorted(table["loss"]) == ["logconf", "xent"] and set(table["size_axis"]) == {
        "parameters"
    }
    for model, column in (("weakling", "weak_size"), ("strongling", "strong_size")):
        role = "weak" if model == "weakling" else "ceiling"
        loaded = Classifier.load(str(finished / f"results/{role}/toy/seed0/{model}/checkpoint"))
        assert set(table[column]) == {float(sum(p.numel() for p in loaded.parameters()))}
    runs = pl.read_parquet(finished / "results/summary/aggregate.parquet")
    assert sorted(table["student_acc_mean"]) == sorted(runs["student_acc_mean"])
    assert all(
        (finished / f"results/plots/scaling_{loss}.png").stat().st_size > 1000
        for loss in ("xent", "logconf")
    )


def test_the_group_analysis_covers_every_predictions_file(finished):
    table = pl.read_parquet(finished / "results/analysis/groups.parquet")
    sizes = table.group_by("role", "loss").agg(pl.col("n").sum()).sort("role", "loss").rows()
    assert sizes == [
        ("ceiling", "", 32),
        ("student", "logconf", 32),
        ("student", "xent", 32),
        ("weak", "", 32),
        ("weak_labels", "", 48),
    ]
    student = pl.read_parquet(
        finished / "results/student/toy/seed0/weakling/strongling/xent/test_predictions.parquet"
    )
    by_group = student.group_by("group").agg(pl.col("correct").mean()).rows()
    rows = table.filter((pl.col("role") == "student") & (pl.col("loss") == "xent"))
    assert sorted(rows.select("group", "accuracy").rows()) == sorted(by_group)
    assert (finished / "results/plots/groups_toy.png").stat().st_size > 1000


def loaded_images(browser) -> dict[str, int]:
    """The page's PNG images that finished loading: name (alt text, or the data URI's filename) -> pixel width."""
    return browser.execute_script("""
        const out = {};
        for (const img of document.images) {
            if (!img.src.startsWith('data:image/png') || !img.complete) continue;
            const name = img.alt || (img.src.match(/filename=([^;,]+)/) || [])[1] || img.src.slice(0, 30);
            out[name] = img.naturalWidth;
        }
        return out;""")


def test_the_report_opens_in_a_browser_with_every_figure(finished, tmp_path):
    """`snakemake --report` renders, and in headless Chromium its first page shows the headline table from the top
    and every analysis's figure; every figure under Plots and Analyses opens."""
    from browser import chromium
    from selenium.webdriver.support.ui import WebDriverWait

    from w2s.analysis.agreement import imitation_by_cell
    from w2s.pipeline.analyses import report_figures

    result = snakemake(finished, "--report", "report.html")
    assert (
        "(ERROR/" not in result.stdout + result.stderr
    )  # docutils complaints about a caption or the page
    aggregate = pl.read_parquet(finished / "results/summary/aggregate.parquet")
    with chromium() as browser:
        browser.get((finished / "report.html").as_uri())
        heading = WebDriverWait(browser, 30).until(
            lambda b: b.find_element("xpath", "//h1[text()='Headline']")
        )
        # the top of a long first page stays within reach (a centred page starts above the scrollable area)
        assert (
            browser.execute_script("return arguments[0].getBoundingClientRect().top", heading) >= 0
        )
        rows = browser.find_elements(
            "xpath", "//h1[text()='Headline']/following::table[1]//tbody/tr"
        )
        cells = [[td.text for td in row.find_elements("tag name", "td")] for row in rows]

        def cell(value) -> str:
            return "undefined" if value is None else f"{value:.2f}"

        agreement = pl.read_parquet(finished / "results/analysis/agreement.parquet")
        imitation = {
            (
                r["weak"],
                r["strong"],
                r["loss"],
            ): f"{r['imitation_mean']:.2f} ({r['ceiling_imitation_mean']:.2f})"
            for r in imitation_by_cell(agreement).iter_rows(named=True)
        }
        expected = [
            [
                r["dataset"],
                f"{r['weak']} → {r['strong']}",
                r["loss"],
                cell(r["pgr_of_means"]),  # the headline: the PGR of the means
                cell(r["pgr_mean"]),  # one seed: no ± s.e.m.
                "" if r["zero_shot_pgr_of_means"] is None else cell(r["zero_shot_pgr_of_means"]),
                imitation[(r["weak"], r["strong"], r["loss"])],  # the student's, then the ceiling's
            ]
            for r in aggregate.iter_rows(named=True)
        ]
        shown = [[c[0], c[1].replace("\n", " "), c[2], *(x.strip() for x in c[-4:])] for c in cells]
        assert shown == expected  # an empty cell renders as a space
        figures = {path for _, _, path, _ in report_figures(tiny_config())}
        assert {name for name, width in loaded_images(browser).items() if width > 100} == figures
        browser.save_screenshot(str(tmp_path / "report.png"))
        for category in ("Plots", "Analyses"):
            browser.execute_script(f"app.showCategory('{category}')")
            names = WebDriverWait(browser, 10).until(
                lambda b: [
                    td.text
                    for td in b.find_elements(
                        "xpath", "//td[substring(text(), string-length(text()) - 3) = '.png']"
                    )
                ]
            )
            assert names, category
            for name in names:
                browser.find_element(
                    "xpath", f"//td[text()='{name}']/..//a[@iconname='eye']"
                ).click()
                basename = name.rsplit("/", 1)[-1]
                WebDriverWait(browser, 10).until(
                    lambda b, basename=basename: loaded_images(b).get(basename, 0) > 100
                )
                browser.execute_script(f"app.showCategory('{category}')")
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_a_new_method_is_one_module_and_a_config_entry(finished, tmp_path):
    """Weak-label filtering by confidence (w2s/training/losses/confidence_filter.py) added to a finished grid as a
    config entry: only its student trains, on the weak labels the weak model was surest of, and its row reaches the
    summary and its methods plot."""
    work = tmp_path / "grid"
    shutil.copytree(finished, work, symlinks=True)
    config = tiny_config()
    config["losses"]["filtered"] = {"type": "confidence_filter", "contamination": 0.25}
    write_config(work, config, "filtered.yaml")
    assert planned_jobs(work, "filtered.yaml") == {"train_student": 1, **REPORTING}
    snakemake(work, "--cores", "2", config="filtered.yaml")
    labels = pl.read_parquet(work / "results/labels/toy/seed0/weakling.parquet")
    run = work / "results/student/toy/seed0/weakling/strongling/filtered"
    training = json.loads((run / "training.json").read_text())
    assert training["n_train"] == len(labels) - round(0.25 * len(labels))
    assert training["n_train_dropped"] == round(0.25 * len(labels))
    runs = pl.read_parquet(work / "results/summary/runs.parquet")
    assert sorted(runs["loss"]) == ["filtered", "logconf", "xent"]
    assert (work / "results/plots/methods/filtered.png").stat().st_size > 0


def test_confidence_filter_drops_the_least_confident_labels():
    from w2s.training.losses import make_loss

    loss = make_loss("filtered", {"type": "confidence_filter", "contamination": 0.4})
    kept = loss.keep(pl.Series([0.9, 0.5, 0.45, 0.02, 0.6]).to_numpy())
    assert kept.tolist() == [True, False, False, True, True]  # |2p - 1|: 0.8, 0, 0.1, 0.96, 0.2
