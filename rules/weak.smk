XENT = {"type": "xent"}


rule train_weak:
    input:
        train=grid.DATA.replace("{split}", "weak_train"),
        test=grid.DATA.replace("{split}", "test"),
        base=base_model_input,
    output:
        checkpoint=directory(grid.WEAK + "/checkpoint"),
        metrics=grid.WEAK + "/metrics.json",
        predictions=grid.WEAK + "/test_predictions.parquet",
        trajectory=grid.WEAK + "/trajectory.jsonl",
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        target_column="label",
        loss_name="xent",
        loss=XENT,
        info=lambda w: {"dataset": w.dataset, "seed": int(w.seed), "role": "weak", "model": w.model,
                        "weak": None, "loss": None},
    threads: model_threads
    log:
        "logs/weak/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/weak/{dataset}/seed{seed}/{model}.tsv"
    script:
        "../scripts/finetune.py"
