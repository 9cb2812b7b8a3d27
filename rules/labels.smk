# The weak model's labels of the validation split (early_stopping weak_val): a student stops where it agrees best
# with them.
if grid.uses_validation(config):

    rule label_validation:
        input:
            checkpoint=grid.WEAK_CHECKPOINT,
            split=grid.split_file("validation"),
        output:
            grid.VALIDATION_LABELS,
        log:
            "logs/labels/{dataset}/seed{seed}/validation/{model}.log",
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, "label_strong_train"),
        params:
            prediction=lambda w: grid.prediction_params(config, w.model),
            info=lambda w: grid.label_info(w, "validation"),
            shard=0,
            shards=1,
        script:
            "../scripts/predict_shard.py"


# Bootstrapping chains: a link labels strong_train for the next link, held out by cross-fitting (chain_folds > 1:
# w2s.pipeline.crossfit), or in-sample by its own student (chain_folds 1).
if config["chains"] and grid.chain_folds(config) > 1:

    rule crossfit_chain_labels:
        input:
            **grid.crossfit_activation_inputs(config),
            labels=grid.chain_link_training_labels,
            split=grid.split_file("strong_train"),
            test=grid.split_file("test"),
            base=lambda w: grid.run_start_inputs(config, w.model, w.dataset, w.seed),
        output:
            grid.CHAIN_LABELS,
        log:
            "logs/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/{model}.log",
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, "train_chain"),
        params:
            training=lambda w: grid.training_params(config, w.model, w.dataset, w.seed),
            job=lambda w: grid.crossfit_params(config, w),
        script:
            "../scripts/crossfit_chain_labels.py"


if config["chains"] and grid.chain_folds(config) == 1:

    rule label_chain_link:
        input:
            checkpoint=grid.chain_labeller_checkpoint,
            split=grid.split_file("strong_train"),
        output:
            grid.CHAIN_LABELS,
        log:
            "logs/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/{model}.log",
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, "label_strong_train"),
        params:
            prediction=lambda w: grid.prediction_params(config, w.model),
            info=grid.chain_label_info,
            shard=0,
            shards=1,
        script:
            "../scripts/predict_shard.py"


if config["chains"] and grid.uses_validation(config):

    rule label_chain_validation:
        input:
            checkpoint=grid.chain_labeller_checkpoint,
            split=grid.split_file("validation"),
        output:
            grid.CHAIN_VALIDATION_LABELS,
        log:
            "logs/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/validation/{model}.log",
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, "label_strong_train"),
        params:
            prediction=lambda w: grid.prediction_params(config, w.model),
            info=lambda w: grid.chain_label_info(w, "validation"),
            shard=0,
            shards=1,
        script:
            "../scripts/predict_shard.py"


# Sharded labelling (labelling.shards > 1): the weak model's checkpoint labels contiguous row ranges of strong_train
# in separate jobs, merged in order into the labels file. Unsharded, the weak training job labels it (grid.py).
if not grid.labels_in_weak_job(config):

    rule label_strong_train:
        input:
            checkpoint=grid.WEAK_CHECKPOINT,
            split=grid.split_file("strong_train"),
        output:
            temp(grid.LABEL_SHARD),
        log:
            "logs/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.log",
        benchmark:
            "benchmarks/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.tsv"
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, "label_strong_train"),
        params:
            prediction=lambda w: grid.prediction_params(config, w.model),
            info=grid.label_info,
            shard=lambda w: int(w.shard),
            shards=lambda w: int(w.shards),
        script:
            "../scripts/predict_shard.py"

    rule merge_label_shards:
        input:
            lambda w: grid.label_shard_files(config, w.dataset, w.seed, w.model),
        output:
            grid.LABELS,
        log:
            "logs/labels/{dataset}/seed{seed}/{model}.merge.log",
        # Concatenating shards is quick: it runs where Snakemake runs, not as a cluster job.
        localrule: True
        conda:
            "../envs/w2s.yaml"
        script:
            "../scripts/merge_label_shards.py"
