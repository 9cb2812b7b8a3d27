"""w2s: weak-to-strong generalization experiments as a Snakemake workflow.

The package in floors, each importing only from the ones below it:

    cli.py      the `w2s` command (checks a config, inspects predictions files and results)
    pipeline/   the Snakemake side: config, grid and rule params, cluster resources, the jobs the rules run
    training/   the training loop, losses, engines, resumable state, prediction, pretraining
    analysis/   predictions files, metrics, summary tables and plots (beside training: needs no torch)
    models/     the classifier on a Hugging Face LM, built models, tokenisation
    data/       dataset sources, splits, synthetic worlds, tokenizers
    errors.py, hub.py, io.py, version.py    what every floor uses (hub.py: local copies of hub repositories)
"""

__version__ = "0.1.0"
