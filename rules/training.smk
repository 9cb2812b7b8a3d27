# The finetuning rules, one per role: train_weak (weak_train's ground truth; with unsharded labelling it also labels
# strong_train), train_ceiling (strong_train's ground truth), train_student (the weak labels, with one loss) and
# train_chain (a bootstrapping chain's link after its first student: the previous link's labels).
for role in paths.TRAINED_ROLES:
    folder = paths.RUN_FOLDERS[role]

    rule:
        name:
            f"train_{role}"
        input:
            **rule_io.training_inputs(config, role),
        output:
            **rule_io.training_outputs(config, role),
        log:
            f"{paths.log_folder(folder)}.log",
        benchmark:
            f"{paths.log_folder(folder, 'benchmarks')}.tsv"
        group:
            grid.job_group(config)
        conda:
            "../envs/w2s.yaml"
        threads: lambda w: config["models"][w.model]["threads"]
        resources:
            **cluster.rule_resources(config, f"train_{role}"),
        params:
            training=lambda w: rule_params.training_params(config, w.model, w.dataset, w.seed).to_dict(),
            job=lambda w, role=role: rule_params.finetune_params(config, Run.of(role, w)),
        script:
            "../scripts/finetune.py"
