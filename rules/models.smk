rule build_base_model:
    output:
        directory(paths.BASE_MODEL),
    log:
        "logs/base_models/{model}.log",
    conda:
        "../envs/w2s.yaml"
    resources:
        **cluster.rule_resources(config, "build_base_model"),
    params:
        build=lambda w: config["models"][w.model]["build"],
    script:
        "../scripts/build_base_model.py"


# Generative finetuning (a model entry's generative_finetune): the model finetuned as a language model on a task's
# texts of one seed's splits (never its labels; the training splits unless the entry names test too); that model's
# runs on the task start from it.
rule generative_finetune:
    input:
        texts=lambda w: rule_io.generative_texts(config, w.model),
        base=lambda w: rule_io.base_model_inputs(config, w.model),
    output:
        directory(paths.GENERATIVE),
    log:
        "logs/generative/{dataset}/seed{seed}/{model}.log",
    benchmark:
        "benchmarks/generative/{dataset}/seed{seed}/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "generative_finetune"),
    params:
        generative=lambda w: rule_params.generative_params(config, w.model, w.seed),
    script:
        "../scripts/generative_finetune.py"


# A linear probe's inputs (mode probe): the frozen backbone's last-token activations of one split, computed once and
# read by every run of that model on the split.
rule extract_activations:
    input:
        split=paths.split_file("{split}"),
        base=lambda w: rule_io.run_start_inputs(config, w.model, w.dataset, w.seed),
    output:
        paths.ACTIVATIONS,
    log:
        "logs/activations/{dataset}/seed{seed}/{model}/{split}.log",
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "label_strong_train"),
    params:
        activations=lambda w: rule_params.activation_params(config, w.model, w.dataset, w.seed).to_dict(),
    script:
        "../scripts/extract_activations.py"
