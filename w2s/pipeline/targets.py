"""What a run of the workflow delivers (rule all's inputs): the summary, the plots and analyses, the weak labels and
every run's metrics."""

from __future__ import annotations

import os

from w2s.pipeline.analyses import ANALYSES
from w2s.pipeline.grid import dataset_ensembles, runs, stopping_method, stops_early, weak_models
from w2s.pipeline.paths import (
    ACCURACY_PLOT,
    LABELS,
    METHODS_PLOT,
    PGR_BY_TASK_PLOT,
    PGR_PLOT,
    REPORT_PAGE,
    SUMMARY,
    SUMMARY_TABLES,
    TABLE_FORMATS,
)


def metrics_files(config: dict) -> list[str]:
    """Every run's metrics.json the summary needs (and, with early stopping, each strong run's
    early_stopping.json beside it)."""
    found = runs(config)
    files = [f"{run.folder}/metrics.json" for run in found]
    if stopping_method(config) != "none":
        files += [
            f"{run.folder}/early_stopping.json"
            for run in found
            if stops_early(config, run.role, "any")
        ]
    return files


def label_files(config: dict) -> list[str]:
    return [
        LABELS.format(dataset=dataset, seed=seed, model=model)
        for dataset in config["datasets"]
        for seed in config["seeds"]
        for model in [*weak_models(config), *dataset_ensembles(config, dataset)]
    ]


def summary_tables() -> dict[str, str]:
    """Rule summarize_runs' outputs: each table (runs, aggregate, overall) as csv and parquet, `<table>_<ext>`."""
    return {
        f"{table}_{ext}": SUMMARY.format(table=table, ext=ext)
        for table in SUMMARY_TABLES
        for ext in TABLE_FORMATS
    }


def result_plots(config: dict) -> dict[str, list[str]]:
    """Rule plot_results' figures, by kind."""
    datasets, losses = config["datasets"], config["losses"]
    return {
        "accuracy": [ACCURACY_PLOT.format(dataset=d) for d in datasets],
        "pgr": [PGR_PLOT.format(loss=loss) for loss in losses],
        "pgr_by_task": [PGR_BY_TASK_PLOT.format(loss=loss) for loss in losses],
        "methods": [METHODS_PLOT.format(loss=loss) for loss in losses],
    }


def final_targets(config: dict) -> list[str]:
    """The summary, the plots, the weak labels and every run's metrics. Each run is a deliverable too: Snakemake
    does not remake a missing intermediate file while what was made from it is newer, so a run whose folder was
    deleted, or whose job failed after its labels were damaged, would otherwise stay missing under an old summary."""
    analyses = [
        path
        for analysis in ANALYSES
        for path in [*analysis.tables().values(), *analysis.plots(config)]
    ]
    plots = [path for paths in result_plots(config).values() for path in paths]
    return (
        list(summary_tables().values())
        + label_files(config)
        + metrics_files(config)
        + plots
        + analyses
        + [REPORT_PAGE]
    )


def report_text(workflow_dir: str) -> str:
    """The report's first page: the one rule write_report_page wrote from the results, once it exists, else the
    workflow's static description."""
    if os.path.exists(REPORT_PAGE):
        return os.path.abspath(REPORT_PAGE)
    return os.path.join(workflow_dir, "report/workflow.rst")
