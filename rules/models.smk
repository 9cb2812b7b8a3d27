rule build_base_model:
    output:
        directory(grid.BASE_MODEL),
    params:
        build=lambda w: config["models"][w.model]["build"],
    log:
        "logs/base_models/{model}.log",
    script:
        "../scripts/build_base_model.py"


def base_model_input(wildcards):
    """The model directory a finetuning run starts from, when it is a file the workflow can track."""
    source = grid.model_source(config, wildcards.model)
    return [source] if "build" in config["models"][wildcards.model] or os.path.isdir(source) else []


def model_threads(wildcards):
    return config["models"][wildcards.model]["threads"]
