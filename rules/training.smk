# The finetuning rules, one per role: train_weak (weak_train's ground truth; with unsharded labelling it also labels
# strong_train), train_ceiling (strong_train's ground truth) and train_student (the weak labels, with one loss).
for role, run in grid.RUNS.items():

    rule:
        name:
            f"train_{role}"
        input:
            **grid.training_inputs(config, role),
        output:
            **grid.training_outputs(config, role),
        log:
            f"{run.replace('results/', 'logs/', 1)}.log",
        benchmark:
            f"{run.replace('results/', 'benchmarks/', 1)}.tsv"
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, f"train_{role}"),
        params:
            training=lambda w: grid.training_params(config, w.model, w.dataset, w.seed),
            job=lambda w, role=role: grid.finetune_params(config, role, w),
        script:
            "../scripts/finetune.py"
