"""The config's schema defaults and the grid the Snakefile builds from it."""

from __future__ import annotations

import copy

import polars as pl
import pytest
import yaml
from snakemake_helpers import REPO, planned_jobs, tiny_config, write_config

from w2s.errors import W2SError
from w2s.pipeline import analyses, grid, rule_params, targets
from w2s.pipeline.config import validate_config
from w2s.pipeline.grid import Run


def test_defaults_are_filled():
    config = validate_config(tiny_config())
    assert config["pairs"] == "all"
    assert config["training"]["optimizer"] == "adam" and config["training"]["schedule"] == "cosine"
    assert config["models"]["weakling"]["dtype"] == "float32"
    assert config["models"]["weakling"]["trust_remote_code"] is False
    assert config["models"]["weakling"]["build"]["max_position"] == 64


def test_defaults_are_not_shared_between_entries():
    config = validate_config(
        tiny_config(datasets={"a": {"kind": "synthetic"}, "b": {"kind": "synthetic"}})
    )
    config["datasets"]["a"]["options"]["n_rows"] = 5
    assert config["datasets"]["b"]["options"] == {}


def test_shipped_configs_are_valid():
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        validate_config(yaml.safe_load(path.read_text()))


def test_shipped_configs_of_models_of_one_size_give_each_a_compute():
    """The scaling view uses `compute` only where every model gives one; world models of one size that differ in
    what they know would otherwise all sit at one parameter count."""
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        config = validate_config(yaml.safe_load(path.read_text()))
        shapes = {
            (e["pretrain"]["hidden_size"], e["pretrain"]["num_layers"])
            for e in config["models"].values()
            if "pretrain" in e
        }
        if len(shapes) == 1 and len(config["models"]) > 1:
            assert None not in analyses.scaling_compute(config).values(), path.name


def test_all_pairs_follow_model_order():
    config = validate_config(tiny_config())
    config["models"]["giant"] = copy.deepcopy(config["models"]["strongling"])
    assert grid.model_pairs(config) == [
        ("weakling", "strongling"),
        ("weakling", "giant"),
        ("strongling", "giant"),
    ]


def test_explicit_pairs_and_targets():
    config = validate_config(
        tiny_config(pairs=[{"weak": "weakling", "strong": "strongling"}], seeds=[0, 1])
    )
    metrics = targets.metrics_files(config)
    assert len(metrics) == 2 * (1 + 1 + 2)  # seeds x (weak + ceiling + two losses)
    assert "results/student/toy/seed1/weakling/strongling/logconf/metrics.json" in metrics
    final = targets.final_targets(config)
    assert "results/labels/toy/seed1/weakling.parquet" in final
    assert "results/plots/pgr_logconf.png" in final and "results/summary/overall.parquet" in final


def test_training_params_hold_every_hyperparameter():
    config = validate_config(tiny_config())
    params = rule_params.training_params(config, "weakling", "toy", "3")
    assert params.source == "results/base_models/weakling"
    assert params.settings["seed"] == 3 and params.settings["lr"] == 1e-3
    assert params.settings["minibatch_size"] == 8 and params.settings["epochs"] == 1


def test_prediction_params_leave_out_the_training_recipe():
    """Labelling, test-prediction and zero-shot jobs keep only what predicting depends on in their params, so a
    changed learning rate, epoch count or loss reruns none of them (the labels rerun through the checkpoint)."""
    config = validate_config(tiny_config())
    changed = copy.deepcopy(config)
    changed["models"]["weakling"].update(lr=5e-4, batch_size=8, minibatch_size=4)
    changed["training"].update(epochs=3, warmup_frac=0.5, log_every=7)
    changed["losses"]["logconf"]["alpha_max"] = 0.75
    for params in (rule_params.prediction_params, rule_params.zero_shot_params):
        assert params(changed, "weakling") == params(config, "weakling")
    assert rule_params.zero_shot_params(config, "weakling").source == "results/base_models/weakling"
    changed["training"]["predict_batch_size"] = 3
    assert rule_params.prediction_params(changed, "weakling").predict_batch_size == 3


def test_minibatch_larger_than_batch_is_named():
    config = tiny_config()
    config["models"]["weakling"]["minibatch_size"] = 64
    with pytest.raises(
        W2SError, match=r"models\.weakling\.minibatch_size: 64 exceeds batch_size 16"
    ):
        validate_config(config)


def test_pack_group_names_the_dataset_and_seed_of_packed_models_only():
    config = validate_config(tiny_config())
    config["models"]["weakling"]["pack"] = True
    job = {"dataset": "toy", "seed": "1"}
    assert grid.pack_group(config, {**job, "model": "weakling"}) == "pack_toy_seed1"
    assert grid.pack_group(config, {**job, "model": "strongling"}) is None
    assert (
        grid.pack_group(config, job) == "pack_toy_seed1"
    )  # the split joins, connecting the group's jobs
    assert (
        grid.pack_group(config, {"model": "weakling"}) is None
    )  # a job of no one dataset and seed
    config["models"]["weakling"]["pack"] = False
    assert grid.pack_group(config, job) is None


def test_a_split_stays_out_of_the_group_where_a_model_that_does_not_pack_supervises_one_that_does(
    tmp_path,
):
    """weakling (not packed) labels strongling's student (packed): the split in the group would make the cycle
    split (group) -> weakling's training (outside) -> strongling's student (group), which Snakemake refuses."""
    config = tiny_config()
    config["models"]["strongling"]["pack"] = True
    job = {"dataset": "toy", "seed": "0"}
    assert grid.pack_group(validate_config(copy.deepcopy(config)), job) is None
    write_config(tmp_path, config)
    planned = planned_jobs(tmp_path)  # the dry run builds the groups, or fails
    assert planned["train_student"] == len(config["losses"]) and planned["split_dataset"] == 1


def test_a_revision_goes_with_a_hub_id_and_into_the_models_source():
    config = tiny_config()
    config["models"]["weakling"]["revision"] = "step1"
    with pytest.raises(
        W2SError, match="config key models.weakling.revision: a revision is of a hub repository"
    ):
        validate_config(config)
    config["models"]["weakling"] = {"path": "EleutherAI/pythia-70m", "revision": "step1"}
    assert (
        rule_params.model_source(validate_config(config), "weakling")
        == "EleutherAI/pythia-70m@step1"
    )
    config["models"]["weakling"] = {"path": "EleutherAI/pythia-70m@step1", "revision": "step2"}
    with pytest.raises(W2SError, match="models.weakling.revision: .*without @"):
        validate_config(config)


def test_a_chain_link_refuses_the_labels_of_another_loss(tmp_path):
    """Each loss has a chain of its own: the logconf link's labels must not train the xent link."""
    from w2s.io import write_parquet
    from w2s.records.predictions import check_provenance

    link = {"dataset": "d", "seed": "0", "chain": "a+b+c", "model": "c", "loss": "xent"}
    labels = tmp_path / "b.parquet"
    recorded = {
        "dataset": "d",
        "seed": 0,
        "weak_model": "b",
        "split": "strong_train",
        "chain": "a+b+c",
    }
    write_parquet(pl.DataFrame({"id": ["x"]}), labels, {**recorded, "loss": "logconf"})
    with pytest.raises(W2SError, match="loss 'logconf' where 'xent' was expected"):
        check_provenance(labels, rule_params.supervision({"chain_folds": 2}, Run.of("chain", link)))
    write_parquet(pl.DataFrame({"id": ["x"]}), labels, {**recorded, "loss": "xent"})
    check_provenance(labels, rule_params.supervision({"chain_folds": 2}, Run.of("chain", link)))


def test_runs_list_every_run_once_with_its_folder():
    """One function lists a config's runs; each run's folder is its role's pattern, and a job's wildcards give
    back the run they came from."""
    config = validate_config(
        tiny_config(
            models={**tiny_config()["models"], "giant": tiny_config()["models"]["strongling"]},
            chains=[["weakling", "strongling", "giant"]],
        )
    )
    runs = grid.runs(config)
    assert len(runs) == len(set(runs))
    counts = {
        role: sum(r.role == role for r in runs) for role in ("weak", "ceiling", "student", "chain")
    }
    # weak: weakling, strongling; ceilings: strongling, giant; students: 3 pairs x 2 losses; chain: giant x 2 losses
    assert counts == {"weak": 2, "ceiling": 2, "student": 6, "chain": 2}
    link = next(r for r in runs if r.role == "chain" and r.loss == "xent")
    assert link.folder == "results/chain/toy/seed0/weakling+strongling+giant/xent/giant"
    assert link.supervisor == "strongling" and link.weak == "weakling"
    assert Run.of("chain", link.fields) == link
    student = next(
        r for r in runs if r.role == "student" and r.model == "giant" and r.weak == "strongling"
    )
    assert student.folder == "results/student/toy/seed0/strongling/giant/xent"
    assert Run.of("student", student.fields) == student
    assert targets.metrics_files(config) == [f"{r.folder}/metrics.json" for r in runs]


def test_every_analysis_is_a_target_and_on_the_report_page():
    config = validate_config(tiny_config())
    final = set(targets.final_targets(config))
    figures = {path for _, _, path, _ in analyses.report_figures(config)}
    for analysis in analyses.ANALYSES:
        assert set(analysis.tables().values()) <= final, analysis.name
        assert set(analysis.plots(config)) <= final and analysis.plots(config)[0] in figures
        assert (REPO / "report" / f"{analysis.name}.rst").exists()


def test_the_schema_is_the_one_source_of_training_defaults():
    """TrainSettings has no defaults of its own: a run gets every field from its validated config, so the schema's
    default (checkpoint_every 200, say) is the one a run trains with."""
    import dataclasses

    from snakemake_helpers import train_settings

    from w2s.training.settings import TrainSettings

    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(TrainSettings))
    settings = train_settings()
    assert settings.checkpoint_every == 200 and settings.epochs == 2 and settings.batch_size == 32
