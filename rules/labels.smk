# Labels of strong_train (and, with early_stopping weak_val, of the validation split). Unsharded, the weak training
# job labels strong_train itself (w2s.pipeline.grid.labels_in_weak_job); the rules here label with a finished
# checkpoint.

# Bootstrapping chains: a link labels the next link's training rows: strong_train held out by cross-fitting
# (chain_folds > 1: w2s.jobs.crossfit) or in-sample by its own student (chain_folds 1), or a fresh split of the
# next link's own (chain_folds fresh); the last two by rule label_chain_link below.
if config["chains"] and grid.chain_labelling(config) == "crossfit":

    rule crossfit_chain_labels:
        input:
            **rule_io.crossfit_activation_inputs(config),
            labels=rule_io.chain_link_training_labels,
            split=paths.split_file("strong_train"),
            test=paths.split_file("test"),
            base=lambda w: rule_io.run_start_inputs(config, w.model, w.dataset, w.seed),
        output:
            paths.CHAIN_LABELS,
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
            training=lambda w: rule_params.training_params(config, w.model, w.dataset, w.seed).to_dict(),
            job=lambda w: rule_params.crossfit_params(config, rule_io.labeller_run(w), rule_io.chain_link(w)),
        script:
            "../scripts/crossfit_chain_labels.py"


# One checkpoint labels one split in one job: the weak model's labels of validation, a chain link's in-sample labels
# of strong_train or of the next link's fresh split, and its labels of validation (w2s.pipeline.rule_io.
# prediction_rules).
for labelling in rule_io.prediction_rules(config):

    rule:
        name:
            labelling.name
        input:
            checkpoint=labelling.checkpoint,
            split=labelling.split_input,
        output:
            labelling.output,
        log:
            labelling.log,
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, "label_strong_train"),
        params:
            prediction=lambda w: rule_params.prediction_params(config, w.model, w.dataset).to_dict(),
            info=labelling.info,
            shard=0,
            shards=1,
        script:
            "../scripts/predict_shard.py"


# Sharded labelling (labelling.shards > 1): the weak model's checkpoint labels contiguous row ranges of strong_train
# in separate jobs, merged in order into the labels file.
if not grid.labels_in_weak_job(config):

    rule label_strong_train:
        input:
            checkpoint=paths.WEAK_CHECKPOINT,
            split=paths.split_file("strong_train"),
        output:
            temp(paths.LABEL_SHARD),
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
            prediction=lambda w: rule_params.prediction_params(config, w.model, w.dataset).to_dict(),
            info=lambda w: rule_params.label_info(Run.of("weak", w)),
            shard=lambda w: int(w.shard),
            shards=lambda w: int(w.shards),
        script:
            "../scripts/predict_shard.py"

    rule merge_label_shards:
        input:
            lambda w: rule_io.label_shard_files(config, w.dataset, w.seed, w.model),
        output:
            paths.LABELS,
        log:
            "logs/labels/{dataset}/seed{seed}/{model}.merge.log",
        # Concatenating shards is quick: it runs where Snakemake runs, not as a cluster job.
        localrule: True
        conda:
            "../envs/w2s.yaml"
        script:
            "../scripts/merge_label_shards.py"


# Ensemble supervisors (config key ensembles): the members' labels of strong_train and test predictions combined,
# by their mean or by weights fitted on the members' labels of the validation split (w2s.pipeline.ensembles).
if grid.ensembles_used(config):

    rule combine_ensemble:
        input:
            labels=lambda w: rule_io.ensemble_member_files(config, w, paths.LABELS),
            test=lambda w: rule_io.ensemble_member_files(config, w, f"{paths.WEAK}/test_predictions.parquet"),
            validation=lambda w: rule_io.ensemble_validation_files(config, w),
        output:
            **rule_io.ensemble_outputs(config),
        log:
            "logs/ensemble/{dataset}/seed{seed}/{ensemble}.log",
        # Averaging a few files is quick: it runs where Snakemake runs, not as a cluster job.
        localrule: True
        conda:
            "../envs/w2s.yaml"
        params:
            job=lambda w: rule_params.ensemble_params(config, w),
        script:
            "../scripts/combine_ensemble.py"
