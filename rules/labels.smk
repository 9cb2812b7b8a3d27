rule label_strong_train:
    input:
        checkpoint=grid.WEAK_CHECKPOINT,
        split=grid.DATA.replace("{split}", "strong_train"),
    output:
        grid.LABELS,
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        info=lambda w: {"dataset": w.dataset, "seed": int(w.seed), "weak_model": w.model, "split": "strong_train"},
    threads: lambda w: config["models"][w.model]["threads"]
    log:
        "logs/labels/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/labels/{dataset}/seed{seed}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/label_strong_train.py"
