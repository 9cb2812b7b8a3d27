# Test predictions in shards (labelling.test_shards > 1): each trained run's checkpoint predicts contiguous row
# ranges of the test split in separate jobs, merged and scored into the run's predictions and metrics. With one
# shard the training job predicts the test split itself, while it holds the model.
if grid.test_shards(config) > 1:
    for role in paths.TRAINED_ROLES:
        run = paths.RUN_FOLDERS[role]
        logs, benchmarks = paths.log_folder(run), paths.log_folder(run, "benchmarks")

        rule:
            name:
                f"predict_{role}_test"
            input:
                checkpoint=f"{run}/checkpoint",
                split=paths.split_file("test"),
            output:
                temp(paths.TEST_SHARD.format(run=run)),
            log:
                f"{logs}/test_predictions.shards/{{shard}}-of-{{shards}}.log",
            benchmark:
                f"{benchmarks}/test_predictions.shards/{{shard}}-of-{{shards}}.tsv"
            group:
                grid.job_group(config)
            conda:
                "../envs/w2s.yaml"
            threads: lambda w: config["models"][w.model]["threads"]
            resources:
                **cluster.rule_resources(config, "predict_test"),
            params:
                prediction=lambda w: rule_params.prediction_params(config, w.model, w.dataset).to_dict(),
                info=lambda w, role=role: {**rule_params.run_info(config, Run.of(role, w)), "split": "test"},
                shard=lambda w: int(w.shard),
                shards=lambda w: int(w.shards),
            script:
                "../scripts/predict_shard.py"

        rule:
            name:
                f"score_{role}_run"
            input:
                shards=lambda w, run=run: rule_io.test_shard_files(config, run, w),
                training=f"{run}/training.json",
            output:
                **paths.scored_outputs(run),
            log:
                f"{logs}/score.log",
            # Concatenating shards is quick: it runs where Snakemake runs, not as a cluster job.
            localrule: True
            conda:
                "../envs/w2s.yaml"
            params:
                info=lambda w, role=role: rule_params.run_info(config, Run.of(role, w)),
            script:
                "../scripts/score_run.py"
