rule build_base_model:
    output:
        directory(grid.BASE_MODEL),
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
