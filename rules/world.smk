rule generate_world:
    output:
        directory(paths.WORLD),
    log:
        "logs/worlds/{world}.log",
    conda:
        "../envs/w2s.yaml"
    resources:
        **cluster.rule_resources(config, "generate_world"),
    params:
        entry=lambda w: config["worlds"][w.world],
    script:
        "../scripts/generate_world.py"


rule pretrain_model:
    input:
        world=lambda w: rule_io.world_input(config["models"][w.model]["pretrain"]["world"]),
    output:
        directory(paths.PRETRAINED),
    log:
        "logs/pretrained/{model}.log",
    benchmark:
        "benchmarks/pretrained/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "pretrain_model"),
    params:
        pretrain=lambda w: {k: v for k, v in config["models"][w.model]["pretrain"].items() if k != "world"},
    script:
        "../scripts/pretrain_model.py"
