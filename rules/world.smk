rule generate_world:
    output:
        directory(grid.WORLD),
    params:
        entry=lambda w: config["worlds"][w.world],
    resources:
        **cluster.rule_resources(config, "generate_world"),
    log:
        "logs/worlds/{world}.log",
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/generate_world.py"


rule pretrain_model:
    input:
        world=lambda w: grid.world_input(config["models"][w.model]["pretrain"]["world"]),
    output:
        directory(grid.PRETRAINED),
    params:
        pretrain=lambda w: {k: v for k, v in config["models"][w.model]["pretrain"].items() if k != "world"},
    threads: lambda w: config["models"][w.model]["threads"]
    resources:
        **cluster.rule_resources(config, "pretrain_model"),
    log:
        "logs/pretrained/{model}.log",
    benchmark:
        "benchmarks/pretrained/{model}.tsv"
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/pretrain_model.py"
