rule train_ceiling:
    input:
        train=grid.DATA.replace("{split}", "strong_train"),
        test=grid.DATA.replace("{split}", "test"),
        base=lambda w: grid.base_model_inputs(config, w.model),
    output:
        **grid.run_outputs(config, grid.CEILING),
    log:
        "logs/ceiling/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/ceiling/{dataset}/seed{seed}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "train_ceiling"),
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        target_column="label",
        loss_name="xent",
        loss={"type": "xent"},
        info=lambda w: grid.run_info("ceiling", w),
    script:
        "../scripts/finetune.py"


rule train_student:
    input:
        train=grid.LABELS.replace("{model}", "{weak}"),
        test=grid.DATA.replace("{split}", "test"),
        base=lambda w: grid.base_model_inputs(config, w.model),
    output:
        **grid.run_outputs(config, grid.STUDENT),
    log:
        "logs/student/{dataset}/seed{seed}/{weak}/{model}/{loss}.log",
    benchmark:
        "benchmarks/student/{dataset}/seed{seed}/{weak}/{model}/{loss}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "train_student"),
    params:
        training=lambda w: grid.training_params(config, w.model, w.seed),
        target_column="soft_label",
        loss_name=lambda w: w.loss,
        loss=lambda w: config["losses"][w.loss],
        info=lambda w: grid.run_info("student", w),
    script:
        "../scripts/finetune.py"
