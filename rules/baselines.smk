# One job per model scores its own answer on every seed's test split: the model is loaded once, not once a seed.
rule score_zero_shot:
    input:
        test=lambda w: rule_io.seed_splits(config, w, "test"),
        base=lambda w: rule_io.base_model_inputs(config, w.model),
    output:
        metrics=expand(f"{paths.ZERO_SHOT}/metrics.json", seed=config["seeds"], allow_missing=True),
        predictions=expand(f"{paths.ZERO_SHOT}/test_predictions.parquet", seed=config["seeds"], allow_missing=True),
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
        prediction=lambda w: rule_params.zero_shot_params(config, w.model, w.dataset).to_dict(),
        info=lambda w: rule_params.zero_shot_infos(config, w.dataset, w.model),
    script:
        "../scripts/score_zero_shot.py"


# k-shot prompting (config few_shot): one job per model and examples' labels (the truth, or a weak model's) scores
# every seed's test split.
rule score_few_shot:
    input:
        test=lambda w: rule_io.seed_splits(config, w, "test"),
        train=lambda w: rule_io.seed_splits(config, w, "strong_train"),
        labels=lambda w: rule_io.few_shot_labels(config, w),
        base=lambda w: rule_io.base_model_inputs(config, w.model),
    output:
        metrics=expand(f"{paths.FEW_SHOT}/metrics.json", seed=config["seeds"], allow_missing=True),
        predictions=expand(f"{paths.FEW_SHOT}/test_predictions.parquet", seed=config["seeds"], allow_missing=True),
    log:
        "logs/few_shot/{dataset}/{shots}/{model}.log",
    benchmark:
        "benchmarks/few_shot/{dataset}/{shots}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "score_few_shot"),
    params:
        prediction=lambda w: rule_params.few_shot_params(config, w.model, w.dataset).to_dict(),
        info=lambda w: rule_params.few_shot_infos(config, w.dataset, w.model, w.shots),
    script:
        "../scripts/score_few_shot.py"
