"""w2s: weak-to-strong generalization experiments as a Snakemake workflow.

The package in floors, each importing only from the ones below it:

    cli.py      the `w2s` command (checks a config, inspects predictions files and results)
    pipeline/   parse time, what the rules need: config, the grid (runs, paths, rule params, inputs and outputs,
                analyses, targets), cluster resources, the plan
    jobs/       job time, what a rule's job runs: finetuning, labelling and predicting, cross-fitted labels
    process/    what starts and runs a job: its entry points, the warm worker, the DeepSpeed launcher, logging
    kinds/      the task kinds, one module each (classification, generated answers, comparisons): what a job
                does with its rows, its evaluation, its predictions and labels files, its k-shot examples
    training/   the training loop and its recipe, losses (one module each), engines, resumable state,
                prediction, pretraining
    analysis/   summary tables and plots, the analyses, the feature sandbox (beside training: needs no torch)
    models/     the classifier on a Hugging Face LM, built models, tokenisation
    data/       dataset sources, splits, synthetic worlds, tokenizers
    records/    the files every floor above reads or writes: splits, labels, predictions, answers; their metrics;
                a model job's params (typed; what parse time writes and a job reads back)
    columns.py, converted.py, errors.py, hub.py, io.py, version.py    what every floor uses (hub.py: local
                copies of hub repositories, converted.py: pickle-only ones converted on opt-in; columns.py: column
                names the files of several floors share)
"""

__version__ = "0.1.0"
