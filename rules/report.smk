rule summarize_runs:
    input:
        targets.metrics_files(config),
    output:
        **{
            name: report(path, category="Tables", caption="../report/summary.rst") if path.endswith(".csv") else path
            for name, path in targets.summary_tables().items()
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
        aggregate=paths.SUMMARY.format(table="aggregate", ext="csv"),
        overall=paths.SUMMARY.format(table="overall", ext="csv"),
    output:
        **{
            kind: [report(p, category="Plots", caption=f"../report/{kind}.rst") for p in plots]
            for kind, plots in targets.result_plots(config).items()
        },
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


# The analyses (w2s.pipeline.analyses.ANALYSES): imitation of the weak supervisor, calibration, students over
# training, the paper's scaling figure, accuracy per group of examples. Each reads finished results in seconds: a
# local rule.
for analysis in analyses.ANALYSES:
    caption = f"../report/{analysis.name}.rst"
    analysis_inputs, analysis_params = analysis.job(config)

    rule:
        name:
            f"analyse_{analysis.name}"
        input:
            **analysis_inputs,
        output:
            csv=report(analysis.tables()["csv"], category="Analyses", caption=caption),
            parquet=analysis.tables()["parquet"],
            plots=[report(p, category="Analyses", caption=caption) for p in analysis.plots(config)],
        log:
            f"logs/analysis/{analysis.name}.log",
        localrule: True
        conda:
            "../envs/w2s.yaml"
        params:
            name=analysis.name,
            analysis=analysis_params,
        script:
            "../scripts/analyse.py"


# The first page of `snakemake --report`: the headline table, each analysis with its first figure and caption, the
# configuration and the label files. Seconds: a local rule. The configuration is not a param: a setting that changes
# no result reruns nothing, and the page is rewritten whenever a result changes.
rule write_report_page:
    input:
        **{t: paths.SUMMARY.format(table=t, ext="parquet") for t in paths.SUMMARY_TABLES},
        figures=[path for _, _, path, _ in analyses.report_figures(config)],
        labels=targets.label_files(config),
        agreement=paths.ANALYSIS.format(name="agreement", ext="parquet"),
        groups=paths.ANALYSIS.format(name="groups", ext="parquet"),
    output:
        paths.REPORT_PAGE,
    log:
        "logs/summary/write_report_page.log",
    localrule: True
    conda:
        "../envs/w2s.yaml"
    params:
        figures=[
            (title, open(os.path.join(workflow.basedir, f"report/{caption}.rst")).read(), path, count)
            for title, caption, path, count in analyses.report_figures(config)
        ],
    script:
        "../scripts/write_report_page.py"
