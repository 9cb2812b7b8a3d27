"""The analyses: one table that the rules (rules/report.smk), the final targets and the report's first page all
read. An analysis is a name, what it reads, and a function that makes its table and draws its figures; its files
are results/analysis/<name>.{csv,parquet} and results/plots/<name>_<dataset or loss>.png, its caption
report/<name>.rst, its rule analyse_<name>.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from w2s.pipeline.grid import dataset_pairs, model_pairs, runs
from w2s.pipeline.paths import (
    ACCURACY_PLOT,
    ANALYSIS,
    ENSEMBLE,
    LABELS,
    PGR_BY_TASK_PLOT,
    PGR_PLOT,
    SUMMARY,
    TABLE_FORMATS,
    WEAK,
)

PLOT = "results/plots/{name}_{key}.png"


def weak_folder(config: dict, here: dict, weak: str) -> str:
    """The folder of a supervisor's test predictions: a weak model's run, or an ensemble's."""
    if weak in config["ensembles"]:
        return ENSEMBLE.format(**here, ensemble=weak)
    return WEAK.format(**here, model=weak)


def compared_runs(config: dict) -> list[dict]:
    """Every ceiling, student and chain link with the weak model it is compared with, and both test predictions
    files: the runs of the agreement and trajectories analyses."""
    rows = []
    for run in runs(config, ("ceiling", "student", "chain")):
        here = {"dataset": run.dataset, "seed": run.seed}
        weaks = (
            [w for w, strong in dataset_pairs(config, run.dataset) if strong == run.model]
            if run.role == "ceiling"
            else [run.weak]
        )
        rows += [
            {
                **here,
                "weak": weak,
                "strong": run.model,
                "role": "ceiling" if run.role == "ceiling" else "student",
                "loss": run.loss or "",
                "chain": run.chain or "",
                "predictions": f"{run.folder}/test_predictions.parquet",
                "trajectory": f"{run.folder}/trajectory.jsonl",
                "weak_predictions": f"{weak_folder(config, here, weak)}/test_predictions.parquet",
            }
            for weak in weaks
        ]
    return rows


def predictions_runs(config: dict) -> list[dict]:
    """Every predictions file whose calibration and group accuracy the analyses report: the weak, ceiling, student
    and chain runs' test predictions (an ensemble's as a weak model's), and the weak labels of strong_train."""
    rows = []
    for run in runs(config, ("weak", "ensemble", "ceiling", "student", "chain")):
        here = {"dataset": run.dataset, "seed": run.seed}
        base = {**here, "weak": run.weak or "", "loss": run.loss or "", "chain": run.chain or ""}
        role = {"chain": "student", "ensemble": "weak"}.get(run.role, run.role)
        rows.append(
            {
                **base,
                "model": run.model,
                "role": role,
                "predictions": f"{run.folder}/test_predictions.parquet",
            }
        )
        if role == "weak":
            labels = LABELS.format(**here, model=run.model)
            rows.append({**base, "model": run.model, "role": "weak_labels", "predictions": labels})
    return rows


def files_of(rows: list[dict], *columns: str) -> list[str]:
    return sorted({row[column] for row in rows for column in columns})


def size_records(config: dict) -> list[str]:
    """The metrics files that record each model's parameter count for the scaling view: its weak and ceiling runs."""
    return [f"{run.folder}/metrics.json" for run in runs(config, ("weak", "ceiling"))]


def scaling_compute(config: dict) -> dict:
    """Each model's config `compute` (None where it gives none; an ensemble has no size and is left out)."""
    models = dict.fromkeys(m for pair in model_pairs(config) for m in pair if m in config["models"])
    return {model: config["models"][model].get("compute") for model in models}


# Each analysis's table and figures from its inputs and params: (table, draw(key, path)).


def agreement(inputs: dict, params: dict):
    from w2s.analysis.agreement import agreement_table
    from w2s.analysis.label_plots import plot_agreement

    table = agreement_table(params["runs"])
    return table, lambda key, path: plot_agreement(table, key, params["model_order"], path)


def calibration(inputs: dict, params: dict):
    from w2s.analysis.calibration import calibration_table, pooled_reliability
    from w2s.analysis.label_plots import plot_calibration

    pooled = pooled_reliability(params["runs"])
    table = calibration_table(params["runs"])
    return table, lambda key, path: plot_calibration(pooled, key, params["model_order"], path)


def trajectories(inputs: dict, params: dict):
    from w2s.analysis.analysis_plots import plot_trajectories
    from w2s.analysis.trajectories import trajectory_table

    table = trajectory_table(params["runs"])
    return table, lambda key, path: plot_trajectories(table, key, params["model_order"], path)


def scaling(inputs: dict, params: dict):
    from w2s.analysis.analysis_plots import plot_scaling
    from w2s.analysis.plots import plot_note
    from w2s.analysis.scaling import model_sizes, scaling_table
    from w2s.io import read_json, read_parquet

    records = [read_json(path) for path in inputs["sizes"]]
    sizes, axis = model_sizes(records, params["compute"])
    aggregate = read_parquet(
        inputs["aggregate"][0]
    )  # ensembles have no size: their students are not drawn
    aggregate = aggregate.filter(~aggregate["weak"].is_in(params.get("ensembles", [])))
    table = scaling_table(aggregate, sizes, axis)

    def draw(key, path):
        if key in table["loss"]:
            return plot_scaling(table, key, path)
        plot_note(
            path, f"loss {key}: no student of a single weak model to draw (an ensemble has no size)"
        )

    return table, draw


def groups(inputs: dict, params: dict):
    from w2s.analysis.groups import group_table
    from w2s.analysis.label_plots import plot_groups

    table = group_table(params["runs"])
    return table, lambda key, path: plot_groups(table, key, params["model_order"], path)


def gains(inputs: dict, params: dict):
    from w2s.analysis.gains import gains_table, plot_gains
    from w2s.io import read_parquet

    table = gains_table(read_parquet(inputs["runs"][0]), params["shares"], params["types"])
    return table, lambda key, path: plot_gains(table, key, params["model_order"], path)


def ground_truth_shares(config: dict) -> dict:
    """Each loss's ground-truth budget (0 where it has none) and type: the gains analysis's budget lines."""
    losses = config["losses"]
    return {
        "shares": {name: entry.get("ground_truth", 0.0) for name, entry in losses.items()},
        "types": {name: entry["type"] for name, entry in losses.items()},
    }


@dataclass(frozen=True)
class Analysis:
    name: str
    title: str  # its heading on the report's first page
    per: str  # one figure per "dataset" or per "loss"
    compute: Callable  # (inputs, params) -> (table, draw(key, path))
    rows: Callable[
        [dict], list[dict]
    ]  # the runs it compares (compared_runs, predictions_runs), from the config
    inputs: Callable[
        [dict, list[dict]], dict[str, list[str]]
    ]  # (config, rows) -> the rule's inputs
    params: Callable[[dict, list[dict]], dict]  # (config, rows) -> the rule's params

    def job(self, config: dict) -> tuple[dict[str, list[str]], dict]:
        """The rule's inputs and params, from one enumeration of the grid's runs."""
        rows = self.rows(config)
        return self.inputs(config, rows), self.params(config, rows)

    def keys(self, config: dict) -> list[str]:
        return list(config["datasets" if self.per == "dataset" else "losses"])

    def tables(self) -> dict[str, str]:
        return {ext: ANALYSIS.format(name=self.name, ext=ext) for ext in TABLE_FORMATS}

    def plots(self, config: dict) -> list[str]:
        return [PLOT.format(name=self.name, key=key) for key in self.keys(config)]


def per_dataset(config: dict, rows: list[dict]) -> dict:
    return {
        "runs": rows,
        "datasets": list(config["datasets"]),
        "model_order": list(config["models"]),
    }


# In the order of the report's first page.
ANALYSES = (
    Analysis(
        "scaling",
        "Weak-to-strong scaling",
        "loss",
        scaling,
        lambda c: [],
        lambda c, rows: {
            "aggregate": [SUMMARY.format(table="aggregate", ext="parquet")],
            "sizes": size_records(c),
        },
        lambda c, rows: {
            "compute": scaling_compute(c),
            "losses": list(c["losses"]),
            **({"ensembles": list(c["ensembles"])} if c["ensembles"] else {}),
        },
    ),
    Analysis(
        "agreement",
        "Imitation of the weak supervisor",
        "dataset",
        agreement,
        compared_runs,
        lambda c, rows: {"predictions": files_of(rows, "predictions", "weak_predictions")},
        per_dataset,
    ),
    Analysis(
        "trajectories",
        "Students over training",
        "dataset",
        trajectories,
        compared_runs,
        lambda c, rows: {
            "trajectories": files_of(rows, "trajectory"),
            "predictions": files_of(rows, "predictions", "weak_predictions"),
        },
        per_dataset,
    ),
    Analysis(
        "groups",
        "Accuracy per group of examples",
        "dataset",
        groups,
        predictions_runs,
        lambda c, rows: {"predictions": files_of(rows, "predictions")},
        per_dataset,
    ),
    Analysis(
        "gains",
        "Gain against misfit and a ground-truth budget",
        "dataset",
        gains,
        lambda c: [],
        lambda c, rows: {"runs": [SUMMARY.format(table="runs", ext="parquet")]},
        lambda c, rows: {**per_dataset(c, rows), **ground_truth_shares(c)},
    ),
    Analysis(
        "calibration",
        "Calibration",
        "dataset",
        calibration,
        predictions_runs,
        lambda c, rows: {"predictions": files_of(rows, "predictions")},
        per_dataset,
    ),
)
BY_NAME = {analysis.name: analysis for analysis in ANALYSES}


def run_analysis(name: str, inputs: dict, params: dict, output) -> None:
    """Rule analyse_<name>: the analysis's table (csv and parquet) and its figures, one per dataset or loss."""
    from w2s.io import write_table

    table, draw = BY_NAME[name].compute(inputs, params)
    write_table(table, output.csv, output.parquet)
    keys = params["datasets"] if "datasets" in params else params["losses"]
    for key, path in zip(keys, output.plots, strict=True):
        draw(key, path)
    print(table, flush=True)


def report_figures(config: dict) -> list[tuple[str, str, str, int]]:
    """The figures on the report's first page: (title, caption file in report/, its first figure, how many figures
    of that kind the run makes): plot_results' accuracy and PGR, then every analysis's."""
    datasets, losses = list(config["datasets"]), list(config["losses"])
    kinds = [
        ("Accuracy", "accuracy", ACCURACY_PLOT.format(dataset=datasets[0]), len(datasets)),
        ("PGR per strong model", "pgr", PGR_PLOT.format(loss=losses[0]), len(losses)),
    ]
    if len(datasets) > 1:
        kinds.append(
            ("PGR per task", "pgr_by_task", PGR_BY_TASK_PLOT.format(loss=losses[0]), len(losses))
        )
    for analysis in ANALYSES:
        plots = analysis.plots(config)
        kinds.append((analysis.title, analysis.name, plots[0], len(plots)))
    return kinds
