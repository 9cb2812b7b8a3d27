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
