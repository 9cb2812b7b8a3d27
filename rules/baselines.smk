# One job per model scores its own answer on every seed's test split: the model is loaded once, not once a seed.
rule score_zero_shot:
    input:
        test=lambda w: grid.zero_shot_tests(config, w),
        base=lambda w: grid.base_model_inputs(config, w.model),
    output:
        metrics=expand(f"{grid.ZERO_SHOT}/metrics.json", seed=config["seeds"], allow_missing=True),
        predictions=expand(f"{grid.ZERO_SHOT}/test_predictions.parquet", seed=config["seeds"], allow_missing=True),
    log:
        "logs/zero_shot/{dataset}/{model}.log",
    benchmark:
        "benchmarks/zero_shot/{dataset}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "score_zero_shot"),
    params:
        prediction=lambda w: grid.zero_shot_params(config, w.model),
        info=lambda w: [
            {
                "dataset": w.dataset,
                "seed": int(seed),
                "role": "zero_shot",
                "model": w.model,
                "weak": None,
                "loss": None,
            }
            for seed in config["seeds"]
        ],
    script:
        "../scripts/score_zero_shot.py"
