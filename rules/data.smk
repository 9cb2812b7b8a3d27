rule split_dataset:
    input:
        files=lambda w: rule_io.dataset_inputs(config, w.dataset),
    output:
        **{split: paths.split_file(split) for split in ("weak_train", "strong_train", "test")},
    log:
        "logs/data/{dataset}/seed{seed}.log",
    group:
        grid.job_group(config)
    conda:
        "../envs/w2s.yaml"
    resources:
        **cluster.rule_resources(config, "split_dataset"),
    params:
        entry=lambda w: rule_params.split_entry(config, w.dataset),
    script:
        "../scripts/split_dataset.py"


# The validation split (early_stopping weak_val): drawn by the same seeded draw as the three above, continued, so it
# is disjoint from them; a rule of its own, so that asking for it leaves the three files (and all that depends on
# them) as they are.
if grid.uses_validation(config):

    rule split_validation:
        input:
            files=lambda w: rule_io.dataset_inputs(config, w.dataset),
            splits=[paths.split_file(split) for split in ("weak_train", "strong_train", "test")],
        output:
            paths.split_file("validation"),
        log:
            "logs/data/{dataset}/seed{seed}.validation.log",
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        resources:
            **cluster.rule_resources(config, "split_dataset"),
        params:
            entry=lambda w: config["datasets"][w.dataset],
        script:
            "../scripts/split_validation.py"


# A chain link's fresh split (chain_folds fresh): the same seeded draw continued past the splits above, one split of
# strong_train's size per link, so that each link learns rows no model before it saw.
if grid.chain_train_positions(config):

    rule split_chain_train:
        input:
            files=lambda w: rule_io.dataset_inputs(config, w.dataset),
            splits=[paths.split_file(split) for split in ("weak_train", "strong_train", "test")],
        output:
            paths.split_file("chain_train{position}"),
        log:
            "logs/data/{dataset}/seed{seed}.chain_train{position}.log",
        wildcard_constraints:
            position=r"\d+",
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        resources:
            **cluster.rule_resources(config, "split_dataset"),
        params:
            entry=lambda w: rule_params.split_entry(config, w.dataset),
            sizes=lambda w: rule_params.chain_split_sizes(config, w.dataset, int(w.position)),
        script:
            "../scripts/split_chain_train.py"
