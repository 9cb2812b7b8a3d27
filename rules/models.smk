rule build_base_model:
    output:
        directory(grid.BASE_MODEL),
    params:
        build=lambda w: config["models"][w.model]["build"],
    resources:
        **cluster.rule_resources(config, "build_base_model"),
    log:
        "logs/base_models/{model}.log",
    conda:
        "../envs/w2s.yaml"
    script:
        "../scripts/build_base_model.py"
