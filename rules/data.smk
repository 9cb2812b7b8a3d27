rule split_dataset:
    input:
        files=lambda w: grid.dataset_inputs(config, w.dataset),
    output:
        **{split: grid.split_file(split) for split in ("weak_train", "strong_train", "test")},
    log:
        "logs/data/{dataset}/seed{seed}.log",
    conda:
        "../envs/w2s.yaml"
    resources:
        **cluster.rule_resources(config, "split_dataset"),
    params:
        entry=lambda w: config["datasets"][w.dataset],
    script:
        "../scripts/split_dataset.py"
