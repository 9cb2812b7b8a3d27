rule summarize_runs:
    input:
        grid.metrics_files(config),
    output:
        **{
            f"{table}_{ext}": (
                report(grid.SUMMARY.format(table=table, ext=ext), category="Tables", caption="../report/summary.rst")
                if ext == "csv"
                else grid.SUMMARY.format(table=table, ext=ext)
            )
            for table in grid.SUMMARY_TABLES
            for ext in ("csv", "parquet")
        },
    log:
        "logs/summary/summarize_runs.log",
    conda:
        "../envs/w2s.yaml"
    resources:
        **cluster.rule_resources(config, "summarize_runs"),
    script:
        "../scripts/summarize.py"


rule plot_results:
    input:
        aggregate=grid.SUMMARY.format(table="aggregate", ext="csv"),
        overall=grid.SUMMARY.format(table="overall", ext="csv"),
    output:
        accuracy=[
            report(grid.ACCURACY_PLOT.format(dataset=d), category="Plots", caption="../report/accuracy.rst")
            for d in config["datasets"]
        ],
        pgr=[
            report(grid.PGR_PLOT.format(loss=l), category="Plots", caption="../report/pgr.rst")
            for l in config["losses"]
        ],
        pgr_by_task=[
            report(grid.PGR_BY_TASK_PLOT.format(loss=l), category="Plots", caption="../report/pgr_by_task.rst")
            for l in config["losses"]
        ],
        methods=[
            report(grid.METHODS_PLOT.format(loss=l), category="Plots", caption="../report/methods.rst")
            for l in config["losses"]
        ],
    log:
        "logs/summary/plot_results.log",
    conda:
        "../envs/w2s.yaml"
    resources:
        **cluster.rule_resources(config, "plot_results"),
    params:
        datasets=list(config["datasets"]),
        losses=list(config["losses"]),
        model_order=list(config["models"]),
    script:
        "../scripts/plot.py"


# The imitation analysis: each student's (and ceiling's) agreement with its weak supervisor on the test split, where
# the supervisor was right and where it was wrong. Seconds: a local rule.
rule analyse_agreement:
    input:
        grid.agreement_inputs(config),
    output:
        csv=report(grid.AGREEMENT.format(ext="csv"), category="Analyses", caption="../report/agreement.rst"),
        parquet=grid.AGREEMENT.format(ext="parquet"),
        plots=[
            report(grid.AGREEMENT_PLOT.format(dataset=d), category="Analyses", caption="../report/agreement.rst")
            for d in config["datasets"]
        ],
    log:
        "logs/analysis/agreement.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        runs=lambda w: grid.agreement_runs(config),
        datasets=list(config["datasets"]),
        model_order=list(config["models"]),
    script:
        "../scripts/analyse_agreement.py"


# Calibration: expected calibration error of every run's test predictions and of the weak labels, and reliability
# diagrams. Seconds: a local rule.
rule analyse_calibration:
    input:
        grid.calibration_inputs(config),
    output:
        csv=report(grid.CALIBRATION.format(ext="csv"), category="Analyses", caption="../report/calibration.rst"),
        parquet=grid.CALIBRATION.format(ext="parquet"),
        plots=[
            report(grid.CALIBRATION_PLOT.format(dataset=d), category="Analyses", caption="../report/calibration.rst")
            for d in config["datasets"]
        ],
    log:
        "logs/analysis/calibration.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        runs=lambda w: grid.calibration_runs(config),
        datasets=list(config["datasets"]),
        model_order=list(config["models"]),
    script:
        "../scripts/analyse_calibration.py"


# Overfitting to weak labels over training: each student's test accuracy and agreement with its weak model at every
# evaluation, the ceiling's beside it. Seconds: a local rule.
rule analyse_trajectories:
    input:
        grid.trajectory_inputs(config),
        grid.agreement_inputs(config),
    output:
        csv=report(grid.TRAJECTORIES.format(ext="csv"), category="Analyses", caption="../report/trajectories.rst"),
        parquet=grid.TRAJECTORIES.format(ext="parquet"),
        plots=[
            report(grid.TRAJECTORIES_PLOT.format(dataset=d), category="Analyses", caption="../report/trajectories.rst")
            for d in config["datasets"]
        ],
    log:
        "logs/analysis/trajectories.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        runs=lambda w: grid.agreement_runs(config),
        datasets=list(config["datasets"]),
        model_order=list(config["models"]),
    script:
        "../scripts/analyse_trajectories.py"


# The paper's main figure: accuracy and PGR of the plain students against the strong model's size. Seconds: local.
rule analyse_scaling:
    input:
        aggregate=grid.SUMMARY.format(table="aggregate", ext="parquet"),
        sizes=grid.size_records(config),
    output:
        csv=report(grid.SCALING.format(ext="csv"), category="Analyses", caption="../report/scaling.rst"),
        parquet=grid.SCALING.format(ext="parquet"),
        plots=[
            report(grid.SCALING_PLOT.format(loss=l), category="Analyses", caption="../report/scaling.rst")
            for l in config["losses"]
        ],
    log:
        "logs/analysis/scaling.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        compute=grid.scaling_compute(config),
        losses=list(config["losses"]),
    script:
        "../scripts/analyse_scaling.py"


# Label quality per group of examples: the weak labels' and every run's accuracy within each group. Seconds: local.
rule analyse_groups:
    input:
        grid.calibration_inputs(config),
    output:
        csv=report(grid.GROUPS.format(ext="csv"), category="Analyses", caption="../report/groups.rst"),
        parquet=grid.GROUPS.format(ext="parquet"),
        plots=[
            report(grid.GROUPS_PLOT.format(dataset=d), category="Analyses", caption="../report/groups.rst")
            for d in config["datasets"]
        ],
    log:
        "logs/analysis/groups.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        runs=lambda w: grid.calibration_runs(config),
        datasets=list(config["datasets"]),
        model_order=list(config["models"]),
    script:
        "../scripts/analyse_groups.py"


# The first page of `snakemake --report`: the headline table, each analysis with its first figure and caption, the
# configuration and the label files. Seconds: a local rule. The configuration is not a param: a setting that changes
# no result reruns nothing, and the page is rewritten whenever a result changes.
rule write_report_page:
    input:
        aggregate=grid.SUMMARY.format(table="aggregate", ext="parquet"),
        overall=grid.SUMMARY.format(table="overall", ext="parquet"),
        runs=grid.SUMMARY.format(table="runs", ext="parquet"),
        figures=[path for _, _, path, _ in grid.report_figures(config)],
        labels=grid.label_files(config),
    output:
        grid.REPORT_PAGE,
    log:
        "logs/summary/write_report_page.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        figures=[
            (title, open(os.path.join(workflow.basedir, f"report/{caption}.rst")).read(), path, count)
            for title, caption, path, count in grid.report_figures(config)
        ],
    script:
        "../scripts/write_report_page.py"
