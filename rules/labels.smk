rule label_strong_train:
    input:
        checkpoint=grid.WEAK_CHECKPOINT,
        split=grid.DATA.replace("{split}", "strong_train"),
    output:
        temp(grid.LABEL_SHARD),
    params:
        prediction=lambda w: grid.prediction_params(config, w.model),
        info=lambda w: {"dataset": w.dataset, "seed": int(w.seed), "weak_model": w.model, "split": "strong_train"},
        shard=lambda w: int(w.shard),
        shards=lambda w: int(w.shards),
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "label_strong_train"),
    log:
        "logs/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.log",
    benchmark:
        "benchmarks/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.tsv"
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/predict_shard.py"


# Concatenating shards is quick: it runs where Snakemake runs, not as a cluster job.
localrules:
    merge_label_shards,


rule merge_label_shards:
    input:
        lambda w: grid.label_shard_files(config, w.dataset, w.seed, w.model),
    output:
        grid.LABELS,
    log:
        "logs/labels/{dataset}/seed{seed}/{model}.merge.log",
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/merge_label_shards.py"
