rule train_ceiling:
    input:
        train=grid.DATA.replace("{split}", "strong_train"),
        test=grid.DATA.replace("{split}", "test"),
        base=base_model_input,
    output:
        checkpoint=directory(grid.CEILING + "/checkpoint"),
        metrics=grid.CEILING + "/metrics.json",
        predictions=grid.CEILING + "/test_predictions.parquet",
        trajectory=grid.CEILING + "/trajectory.jsonl",
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        target_column="label",
        loss_name="xent",
        loss=XENT,
        info=lambda w: {"dataset": w.dataset, "seed": int(w.seed), "role": "ceiling", "model": w.model,
                        "weak": None, "loss": None},
    threads: model_threads
    log:
        "logs/ceiling/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/ceiling/{dataset}/seed{seed}/{model}.tsv"
    script:
        "../scripts/finetune.py"


rule train_student:
    input:
        train=grid.LABELS.replace("{model}", "{weak}"),
        test=grid.DATA.replace("{split}", "test"),
        base=base_model_input,
    output:
        checkpoint=directory(grid.STUDENT + "/checkpoint"),
        metrics=grid.STUDENT + "/metrics.json",
        predictions=grid.STUDENT + "/test_predictions.parquet",
        trajectory=grid.STUDENT + "/trajectory.jsonl",
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        target_column="soft_label",
        loss_name=lambda w: w.loss,
        loss=lambda w: config["losses"][w.loss],
        info=lambda w: {"dataset": w.dataset, "seed": int(w.seed), "role": "student", "model": w.model,
                        "weak": w.weak, "loss": w.loss},
    threads: model_threads
    log:
        "logs/student/{dataset}/seed{seed}/{weak}/{model}/{loss}.log",
    benchmark:
        "benchmarks/student/{dataset}/seed{seed}/{weak}/{model}/{loss}.tsv"
    script:
        "../scripts/finetune.py"
