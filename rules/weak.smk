rule train_weak:
    input:
        **({"label_split": grid.DATA.replace("{split}", "strong_train")} if grid.labels_in_weak_job(config) else {}),
        train=grid.DATA.replace("{split}", "weak_train"),
        test=grid.DATA.replace("{split}", "test"),
        base=lambda w: grid.base_model_inputs(config, w.model),
    output:
        **grid.weak_run_outputs(config),
    log:
        "logs/weak/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/weak/{dataset}/seed{seed}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "train_weak"),
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        target_column="label",
        loss_name="xent",
        loss={"type": "xent"},
        info=lambda w: grid.run_info("weak", w),
        label_info=grid.label_info,
    script:
        "../scripts/finetune.py"
