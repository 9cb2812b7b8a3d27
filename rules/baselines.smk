rule score_zero_shot:
    input:
        test=grid.DATA.replace("{split}", "test"),
        base=lambda w: grid.base_model_inputs(config, w.model),
    output:
        metrics=f"{grid.ZERO_SHOT}/metrics.json",
        predictions=f"{grid.ZERO_SHOT}/test_predictions.parquet",
    params:
        prediction=lambda w: grid.zero_shot_params(config, w.model),
        info=lambda w: {"dataset": w.dataset, "seed": int(w.seed), "role": "zero_shot", "model": w.model,
                        "weak": None, "loss": None},
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "score_zero_shot"),
    log:
        "logs/zero_shot/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/zero_shot/{dataset}/seed{seed}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/score_zero_shot.py"
