"""The experiment grid: which runs a config asks for, where their files live, and each run's parameters.

The Snakefile and rules use these patterns and functions, so a path is spelled in one place only.
"""

from __future__ import annotations

import os
from itertools import combinations

from w2s.pipeline.config import label_tokens

DATA = "results/data/{dataset}/seed{seed}/{split}.parquet"
WORLD = "results/worlds/{world}"
BASE_MODEL = "results/base_models/{model}"
PRETRAINED = "results/pretrained/{model}"
GENERATIVE = "results/generative/{dataset}/seed{seed}/{model}"  # a model finetuned as an LM on a task's texts
ACTIVATIONS = "results/activations/{dataset}/seed{seed}/{model}/{split}.safetensors"  # a linear probe's inputs
MODES = ("finetune", "probe")  # models.<name>.mode
WEAK = "results/weak/{dataset}/seed{seed}/{model}"
LABELS = "results/labels/{dataset}/seed{seed}/{model}.parquet"
CEILING = "results/ceiling/{dataset}/seed{seed}/{model}"
STUDENT = "results/student/{dataset}/seed{seed}/{weak}/{model}/{loss}"
ZERO_SHOT = "results/zero_shot/{dataset}/seed{seed}/{model}"
# A bootstrapping chain's link after the first student ({chain}: the chain's models joined by "+"), and the labels of
# strong_train that a link's student ({model}) gives the next link.
CHAIN_STUDENT = "results/chain/{dataset}/seed{seed}/{chain}/{loss}/{model}"
CHAIN_LABELS = "results/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/{model}.parquet"
CHAIN_VALIDATION_LABELS = (
    "results/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/validation/{model}.parquet"
)
WEAK_CHECKPOINT = f"{WEAK}/checkpoint"
LABEL_SHARD = "results/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.parquet"
VALIDATION_LABELS = (
    "results/labels/{dataset}/seed{seed}/validation/{model}.parquet"  # early_stopping weak_val
)
TEST_SHARD = (
    "{run}/test_predictions.shards/{{shard}}-of-{{shards}}.parquet"  # {run}: a run folder pattern
)
SUMMARY = "results/summary/{table}.{ext}"
ACCURACY_PLOT = "results/plots/accuracy_{dataset}.png"
PGR_PLOT = "results/plots/pgr_{loss}.png"
PGR_BY_TASK_PLOT = "results/plots/pgr_by_task/{loss}.png"
METHODS_PLOT = "results/plots/methods/{loss}.png"
AGREEMENT = "results/analysis/agreement.{ext}"
AGREEMENT_PLOT = "results/plots/agreement_{dataset}.png"
CALIBRATION = "results/analysis/calibration.{ext}"
CALIBRATION_PLOT = "results/plots/calibration_{dataset}.png"
TRAJECTORIES = "results/analysis/trajectories.{ext}"
TRAJECTORIES_PLOT = "results/plots/trajectories_{dataset}.png"
SCALING = "results/analysis/scaling.{ext}"
SCALING_PLOT = "results/plots/scaling_{loss}.png"
GROUPS = "results/analysis/groups.{ext}"
GROUPS_PLOT = "results/plots/groups_{dataset}.png"
REPORT_PAGE = "results/report/workflow.rst"  # the first page of `snakemake --report`
SUMMARY_TABLES = ("runs", "aggregate", "overall")


RUNS = {"weak": WEAK, "ceiling": CEILING, "student": STUDENT, "chain": CHAIN_STUDENT}


def test_shards(config: dict) -> int:
    return config["labelling"]["test_shards"]


def early_stopping(config: dict) -> str:
    return config["training"]["early_stopping"]


def uses_validation(config: dict) -> bool:
    return early_stopping(config) == "weak_val"


def stops_early(config: dict, role: str, method: str = "weak_val") -> bool:
    """Whether runs of `role` pick early stops by `method` (weak_val, or any with "any"). Weak runs never do: the
    weak labels are written by the weak model's final checkpoint, so that checkpoint is every row's weak baseline
    (an early-stopped weak model's accuracy would be that of a model that labelled nothing)."""
    setting = early_stopping(config)
    return role != "weak" and setting != "none" and method in (setting, "any")


def split_entry(config: dict, dataset: str) -> dict:
    """What the weak_train / strong_train / test splits depend on: the dataset entry without the validation size
    (the validation split is drawn by a rule of its own, so that asking for it leaves these files alone)."""
    return {k: v for k, v in config["datasets"][dataset].items() if k != "n_validation"}


def scored_outputs(run: str) -> dict:
    """A finetuning run's test predictions and metrics, in its folder `run` (a pattern such as WEAK)."""
    return {"metrics": f"{run}/metrics.json", "predictions": f"{run}/test_predictions.parquet"}


def run_outputs(config: dict, run: str) -> dict:
    """The files a training job writes into its run folder `run`: with test_shards > 1 the scored outputs come
    from the shard jobs instead (`scored_outputs`)."""
    from snakemake.io import directory

    outputs = {
        "checkpoint": directory(f"{run}/checkpoint"),
        "trajectory": f"{run}/trajectory.jsonl",
        "training": f"{run}/training.json",
    }
    return outputs if test_shards(config) > 1 else {**outputs, **scored_outputs(run)}


def labels_in_weak_job(config: dict) -> bool:
    """Unsharded labelling happens in the weak training job, with the model it holds: one process fewer per weak
    run (loading torch and transformers is most of a small job's time). Sharded labelling has jobs of its own."""
    return config["labelling"]["shards"] == 1


def writes_labels(config: dict, role: str) -> bool:
    """Whether the training job of `role` also writes the weak labels."""
    return role == "weak" and labels_in_weak_job(config)


def chain_ids(config: dict) -> list[str]:
    return ["+".join(chain) for chain in config["chains"]]


def chain_supervisor(chain: str, model: str) -> str:
    """The link before `model` in a chain: the student whose labels `model` learns from."""
    links = chain.split("+")
    return links[links.index(model) - 1]


def chain_folds(config: dict) -> int:
    """How a chain link labels strong_train for the next link: by cross-fitting over this many folds (w2s.pipeline.
    crossfit), or with 1 in-sample, by the link's own student, which trained on those rows."""
    return config["chain_folds"]


def chain_link_training_labels(wildcards) -> str:
    """The labels of strong_train that the link `wildcards.model` trained on: its supervisor's."""
    links, fields = (
        wildcards.chain.split("+"),
        {"dataset": wildcards.dataset, "seed": wildcards.seed},
    )
    if links.index(wildcards.model) == 1:
        return LABELS.format(**fields, model=links[0])
    return CHAIN_LABELS.format(
        **fields,
        chain=wildcards.chain,
        loss=wildcards.loss,
        model=chain_supervisor(wildcards.chain, wildcards.model),
    )


def chain_link_supervision(wildcards) -> dict:
    """What the labels a chain link `wildcards.model` trained on record: its run's `supervision`."""
    links = wildcards.chain.split("+")
    return supervision(
        "student" if links.index(wildcards.model) == 1 else "chain",
        {**dict(wildcards.items()), "weak": links[0]},
    )


def chain_labeller_checkpoint(wildcards) -> str:
    """The checkpoint of the student that labels strong_train for the link after `wildcards.model`: the ordinary
    student of the chain's first model, or an earlier chain link."""
    links, fields = (
        wildcards.chain.split("+"),
        {"dataset": wildcards.dataset, "seed": wildcards.seed},
    )
    if links.index(wildcards.model) == 1:
        run = STUDENT.format(**fields, weak=links[0], model=wildcards.model, loss=wildcards.loss)
    else:
        run = CHAIN_STUDENT.format(
            **fields, chain=wildcards.chain, loss=wildcards.loss, model=wildcards.model
        )
    return f"{run}/checkpoint"


def supervision(role: str, wildcards) -> dict | None:
    """What a run's training labels must record about themselves (a student's or chain link's; None for ground
    truth): the labels file of another run would train it on the wrong supervision without a word."""
    wildcards = dict(wildcards.items())  # Snakemake's wildcards, or a dict of them
    fields = {
        "dataset": wildcards["dataset"],
        "seed": int(wildcards["seed"]),
        "split": "strong_train",
    }
    if role == "student":
        return {**fields, "weak_model": wildcards["weak"]}
    if role == "chain":
        return {
            **fields,
            "weak_model": chain_supervisor(wildcards["chain"], wildcards["model"]),
            "chain": wildcards["chain"],
            "loss": wildcards["loss"],
        }
    return None


def split_file(split: str) -> str:
    """The pattern of one split's file, with the dataset and seed still wildcards."""
    return DATA.format(dataset="{dataset}", seed="{seed}", split=split)


def training_inputs(config: dict, role: str) -> dict:
    """A training job's inputs: its training targets, the test split, the base model (and the split it labels)."""
    train = {
        "weak": split_file("weak_train"),
        "ceiling": split_file("strong_train"),
        "student": LABELS.format(dataset="{dataset}", seed="{seed}", model="{weak}"),
        "chain": lambda w: CHAIN_LABELS.format(
            dataset=w.dataset,
            seed=w.seed,
            chain=w.chain,
            loss=w.loss,
            model=chain_supervisor(w.chain, w.model),
        ),
    }[role]
    inputs = {
        "train": train,
        "test": split_file("test"),
        "base": lambda w: run_start_inputs(config, w.model, w.dataset, w.seed),
    }
    if writes_labels(config, role):
        inputs["label_split"] = split_file("strong_train")
    if stops_early(
        config, role
    ):  # early stopping by agreement with the run's own supervision on validation
        inputs["validation"] = {
            "student": VALIDATION_LABELS.format(dataset="{dataset}", seed="{seed}", model="{weak}"),
            "chain": lambda w: CHAIN_VALIDATION_LABELS.format(
                dataset=w.dataset,
                seed=w.seed,
                chain=w.chain,
                loss=w.loss,
                model=chain_supervisor(w.chain, w.model),
            ),
        }.get(role, split_file("validation"))
    splits = {"train": "weak_train" if role == "weak" else "strong_train", "test": "test"}
    if writes_labels(config, role):
        splits["label"] = "strong_train"
    if stops_early(config, role):
        splits["validation"] = "validation"
    for name, split in splits.items():  # a linear probe's activations (none for a finetuned model)
        inputs[f"activations_{name}"] = lambda w, split=split: probe_activations(config, w, split)
    return inputs


def probe_activations(config: dict, wildcards, split: str) -> list[str]:
    if config["models"][wildcards.model]["mode"] != "probe":
        return []
    return [
        ACTIVATIONS.format(
            dataset=wildcards.dataset, seed=wildcards.seed, model=wildcards.model, split=split
        )
    ]


def keeps_checkpoint(config: dict, role: str) -> bool:
    """Whether a run's checkpoint stays once the stages that read it are done (keep_checkpoints): a weak model's
    always, since its labels, and labels remade later, depend on it."""
    keep = config["keep_checkpoints"]
    return role == "weak" or keep is True or (isinstance(keep, list) and role in keep)


def training_outputs(config: dict, role: str) -> dict:
    from snakemake.io import temp

    outputs = run_outputs(config, RUNS[role])
    if not keeps_checkpoint(config, role):  # deleted by Snakemake once no job still needs it
        outputs["checkpoint"] = temp(outputs["checkpoint"])
    if stops_early(config, role, "any"):
        outputs["early_stopping"] = f"{RUNS[role]}/early_stopping.json"
    if stops_early(
        config, role
    ):  # the weak_val early stop kept as a model, with its test predictions
        from snakemake.io import directory

        outputs["early_stop_weak_val"] = directory(f"{RUNS[role]}/early_stop_weak_val")
    return {**outputs, "labels": LABELS} if writes_labels(config, role) else outputs


def finetune_params(config: dict, role: str, wildcards) -> dict:
    """What a training job reads besides its model's training params: its targets, loss and identity."""
    student = role in ("student", "chain")
    params = {
        "target_column": "soft_label" if student else "label",
        "loss_name": wildcards.loss if student else "xent",
        "loss_entry": config["losses"][wildcards.loss] if student else {"type": "xent"},
        "info": run_info(config, role, wildcards),
        "supervision": supervision(role, wildcards),
    }
    if writes_labels(config, role):
        params["label_info"] = label_info(wildcards)
    if stops_early(
        config, role, "any"
    ):  # absent when off: turning it on reruns the strong runs' training only
        params["early_stopping"] = early_stopping(config)
    return params


def label_info(wildcards, split: str = "strong_train") -> dict:
    """What a labels file records about itself."""
    return {
        "dataset": wildcards.dataset,
        "seed": int(wildcards.seed),
        "weak_model": wildcards.model,
        "split": split,
    }


def crossfit_params(config: dict, wildcards) -> dict:
    """What a chain link's cross-fitted labels depend on besides its model's training params: its loss, the
    supervision it trained on, the folds, and what the labels record."""
    return {
        "loss_name": wildcards.loss,
        "loss_entry": config["losses"][wildcards.loss],
        "supervision": chain_link_supervision(wildcards),
        "folds": chain_folds(config),
        "info": chain_label_info(wildcards),
    }


def crossfit_activation_inputs(config: dict) -> dict:
    """A cross-fitting job's inputs for a linear probe link: its activations of strong_train and test (none for a
    finetuned link)."""
    return {
        f"activations_{name}": lambda w, split=split: probe_activations(config, w, split)
        for name, split in (("split", "strong_train"), ("test", "test"))
    }


def chain_label_info(wildcards, split: str = "strong_train") -> dict:
    """What a chain link's labels record: the labels file's fields, the chain and the loss."""
    return {**label_info(wildcards, split), "chain": wildcards.chain, "loss": wildcards.loss}


def test_shard_files(config: dict, run: str, wildcards) -> list[str]:
    shards = test_shards(config)
    return [
        TEST_SHARD.format(run=run).format(**dict(wildcards.items()), shard=shard, shards=shards)
        for shard in range(shards)
    ]


def run_info(config: dict, role: str, wildcards) -> dict:
    """What a run's metrics and predictions record about it (a chain link: its chain, whose first model is its
    weak model; a generatively finetuned model or a probe: that)."""
    info = {
        "dataset": wildcards.dataset,
        "seed": int(wildcards.seed),
        "role": role,
        "model": wildcards.model,
        "weak": wildcards.get("weak"),
        "loss": wildcards.get("loss"),
    }
    if role == "chain":
        info.update(weak=wildcards.chain.split("+")[0], chain=wildcards.chain)
    entry = config["models"][wildcards.model]
    if (
        "generative_finetune" in entry
    ):  # absent otherwise: the params of every other run stay as they were
        info["generative"] = True
    if entry["mode"] == "probe":
        info["mode"] = "probe"
    return info


def local_files(path: str) -> list[str]:
    """The files of a local directory (recursively, hidden ones left out), or [path] for a file: as Snakemake inputs,
    so that editing any of them reruns what reads them (a directory's own mtime moves only when entries come or go)."""
    if not os.path.isdir(path):
        return [path]
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [os.path.join(root, name) for name in sorted(names) if not name.startswith(".")]
    return files


def base_model_inputs(config: dict, model: str) -> list[str]:
    """What a finetuning run starts from, when it is something the workflow can track: a directory the workflow
    builds, or every file of a local model directory."""
    entry = config["models"][model]
    if "backbone" in entry:
        return base_model_inputs(config, entry["backbone"])
    source = model_source(config, model)
    if "build" in entry or "pretrain" in entry:
        return [source]
    return local_files(source) if os.path.isdir(source) else []


def run_source(config: dict, model: str, dataset: str, seed) -> str:
    """What a finetuning run of `model` on a dataset and seed starts from: the model, or with generative_finetune
    the model finetuned as an LM on that dataset's (and seed's) texts."""
    if "generative_finetune" in config["models"][model]:
        return GENERATIVE.format(dataset=dataset, seed=seed, model=model)
    return model_source(config, model)


def run_start_inputs(config: dict, model: str, dataset: str, seed) -> list[str]:
    if "generative_finetune" in config["models"][model]:
        return [run_source(config, model, dataset, seed)]
    return base_model_inputs(config, model)


def generative_params(config: dict, model: str, seed) -> dict:
    """What a generative finetuning depends on: the model it starts from and its recipe."""
    entry = config["models"][model]
    return {
        "source": model_source(config, model),
        "trust_remote_code": entry["trust_remote_code"],
        "max_length": entry["max_length"],
        "seed": int(seed),
        **{k: v for k, v in entry["generative_finetune"].items() if k != "splits"},
    }  # splits: the inputs


def generative_texts(config: dict, model: str) -> list[str]:
    """The split files whose texts a generative finetuning learns, dataset and seed left as wildcards."""
    return [split_file(split) for split in config["models"][model]["generative_finetune"]["splits"]]


def activation_params(config: dict, model: str, dataset: str, seed) -> dict:
    """What a backbone's activations of a split depend on: the model they come from and how it reads texts."""
    return {"source": run_source(config, model, dataset, seed), **prediction_params(config, model)}


def world_input(world: str | None) -> list[str]:
    return [WORLD.format(world=world)] if world else []


def dataset_inputs(config: dict, dataset: str) -> list[str]:
    """Files a dataset's split job reads: a world's task, a local data file, local `data_files`, or every file of a
    local dataset directory given as `source`; a hub id is nothing the workflow can track."""
    entry = config["datasets"][dataset]
    options = entry.get("options", {})
    if entry["kind"] == "world":
        return world_input(options.get("world"))
    if entry["kind"] == "local":
        return [options["path"]] if "path" in options else []
    data_files = options.get("data_files")
    if data_files:
        return [data_files] if isinstance(data_files, str) else list(data_files)
    source = options.get("source")
    return local_files(source) if source and os.path.isdir(source) else []


def zero_shot_models(config: dict) -> list[str]:
    """Models of the pairs that have label tokens, so a zero-shot answer to score."""
    models = dict.fromkeys(model for pair in model_pairs(config) for model in pair)
    return [
        model
        for model in config["models"]
        if model in models and label_tokens(config["models"][model])
    ]


def zero_shot_tests(config: dict, wildcards) -> list[str]:
    """A zero-shot job's inputs: the test split of every seed (its outputs are one run folder per seed)."""
    return [
        DATA.format(dataset=wildcards.dataset, seed=seed, split="test") for seed in config["seeds"]
    ]


def model_pairs(config: dict) -> list[tuple[str, str]]:
    """The (weak, strong) pairs: those the config names, and each chain's first model with every later link (its
    first student, and the direct students a chain's links are compared with)."""
    pairs = (
        list(combinations(config["models"], 2))
        if config["pairs"] == "all"
        else [(pair["weak"], pair["strong"]) for pair in config["pairs"]]
    )
    return list(
        dict.fromkeys(
            pairs + [(chain[0], model) for chain in config["chains"] for model in chain[1:]]
        )
    )


def chain_runs(config: dict) -> list[str]:
    """Every chain link after the first student, as a run folder pattern with dataset and seed left open."""
    return [
        CHAIN_STUDENT.format(
            dataset="{dataset}", seed="{seed}", chain="+".join(chain), loss=loss, model=model
        )
        for chain in config["chains"]
        for loss in config["losses"]
        for model in chain[2:]
    ]


def model_source(config: dict, model: str) -> str:
    """What to load a model from: its hub id (`<id>@<revision>` with a revision) or path, or the directory the
    pipeline builds it in."""
    entry = config["models"][model]
    if "backbone" in entry:
        return model_source(config, entry["backbone"])
    if "pretrain" in entry:
        return PRETRAINED.format(model=model)
    if "revision" in entry:
        return f"{entry['path']}@{entry['revision']}"
    return entry["path"] if "path" in entry else BASE_MODEL.format(model=model)


def metrics_files(config: dict) -> list[str]:
    """Every run's metrics.json the summary needs: weak models, ceilings and students of every pair (and, with
    early stopping, each finetuning run's early_stopping.json beside it)."""
    files = []
    pairs = model_pairs(config)
    for dataset in config["datasets"]:
        for seed in config["seeds"]:
            for model in dict.fromkeys(weak for weak, _ in pairs):
                files.append(f"{WEAK}/metrics.json".format(dataset=dataset, seed=seed, model=model))
            for model in dict.fromkeys(strong for _, strong in pairs):
                files.append(
                    f"{CEILING}/metrics.json".format(dataset=dataset, seed=seed, model=model)
                )
            for model in zero_shot_models(config):
                files.append(
                    f"{ZERO_SHOT}/metrics.json".format(dataset=dataset, seed=seed, model=model)
                )
            for weak, strong in pairs:
                for loss in config["losses"]:
                    run = STUDENT.format(
                        dataset=dataset, seed=seed, weak=weak, model=strong, loss=loss
                    )
                    files.append(f"{run}/metrics.json")
            files += [
                f"{run.format(dataset=dataset, seed=seed)}/metrics.json"
                for run in chain_runs(config)
            ]
    if early_stopping(config) != "none":
        files += [
            path.replace("/metrics.json", "/early_stopping.json")
            for path in files
            if not path.startswith(("results/zero_shot/", "results/weak/"))
        ]
    return files


def agreement_run(
    fields: dict, weak: str, strong: str, run: str, loss: str, chain: str, folder: str
) -> dict:
    """One row of the agreement analysis's inputs: a run's test predictions beside its weak model's."""
    return {
        "dataset": fields["dataset"],
        "seed": int(fields["seed"]),
        "weak": weak,
        "strong": strong,
        "run": run,
        "loss": loss,
        "chain": chain,
        "predictions": f"{folder}/test_predictions.parquet",
        "trajectory": f"{folder}/trajectory.jsonl",
        "weak_predictions": f"{WEAK.format(**fields, model=weak)}/test_predictions.parquet",
    }


def agreement_runs(config: dict) -> list[dict]:
    """Every student, chain link and ceiling with the weak model it is compared with, and both test predictions
    files: the inputs of the agreement analysis (w2s.analysis.agreement)."""
    runs = []
    for dataset in config["datasets"]:
        for seed in config["seeds"]:
            fields = {"dataset": dataset, "seed": seed}
            for weak, strong in model_pairs(config):
                runs.append(
                    agreement_run(
                        fields,
                        weak,
                        strong,
                        "ceiling",
                        "",
                        "",
                        CEILING.format(**fields, model=strong),
                    )
                )
                runs += [
                    agreement_run(
                        fields,
                        weak,
                        strong,
                        "student",
                        loss,
                        "",
                        STUDENT.format(**fields, weak=weak, model=strong, loss=loss),
                    )
                    for loss in config["losses"]
                ]
            for chain in config["chains"]:
                chain_id = "+".join(chain)
                runs += [
                    agreement_run(
                        fields,
                        chain[0],
                        model,
                        "student",
                        loss,
                        chain_id,
                        CHAIN_STUDENT.format(**fields, chain=chain_id, loss=loss, model=model),
                    )
                    for loss in config["losses"]
                    for model in chain[2:]
                ]
    return runs


def calibration_runs(config: dict) -> list[dict]:
    """Every predictions file whose calibration the analysis reports: weak, ceiling, student and chain runs' test
    predictions, and the weak labels of strong_train (w2s.analysis.calibration)."""
    runs = []
    pairs = model_pairs(config)
    for dataset in config["datasets"]:
        for seed in config["seeds"]:
            fields = {"dataset": dataset, "seed": seed}
            base = {"dataset": dataset, "seed": int(seed), "weak": "", "loss": "", "chain": ""}
            for model in dict.fromkeys(weak for weak, _ in pairs):
                runs.append(
                    {
                        **base,
                        "model": model,
                        "run": "weak",
                        "predictions": f"{WEAK.format(**fields, model=model)}/test_predictions.parquet",
                    }
                )
                runs.append(
                    {
                        **base,
                        "model": model,
                        "run": "weak_labels",
                        "predictions": LABELS.format(**fields, model=model),
                    }
                )
            for model in dict.fromkeys(strong for _, strong in pairs):
                runs.append(
                    {
                        **base,
                        "model": model,
                        "run": "ceiling",
                        "predictions": f"{CEILING.format(**fields, model=model)}/test_predictions.parquet",
                    }
                )
    runs += [
        {
            **{k: row[k] for k in ("dataset", "seed", "weak", "loss", "chain", "predictions")},
            "model": row["strong"],
            "run": "student",
        }
        for row in agreement_runs(config)
        if row["run"] == "student"
    ]
    return runs


def calibration_inputs(config: dict) -> list[str]:
    return sorted({run["predictions"] for run in calibration_runs(config)})


def agreement_inputs(config: dict) -> list[str]:
    return sorted(
        {
            path
            for run in agreement_runs(config)
            for path in (run["predictions"], run["weak_predictions"])
        }
    )


def trajectory_inputs(config: dict) -> list[str]:
    return sorted({run["trajectory"] for run in agreement_runs(config)})


def size_records(config: dict) -> list[str]:
    """The metrics files that record each model's parameter count for the scaling view: its weak and ceiling runs."""
    return [
        path
        for path in metrics_files(config)
        if path.startswith(("results/weak/", "results/ceiling/")) and path.endswith("/metrics.json")
    ]


def scaling_compute(config: dict) -> dict:
    """Each model's config `compute` (None where it gives none)."""
    return {
        model: config["models"][model].get("compute")
        for model in dict.fromkeys(m for p in model_pairs(config) for m in p)
    }


def report_figures(config: dict) -> list[tuple[str, str, str, int]]:
    """The analyses on the report's first page: (title, caption file in report/, its first figure, how many figures
    of that kind the run makes)."""
    datasets, losses = list(config["datasets"]), list(config["losses"])
    kinds = [
        ("Accuracy", "accuracy", ACCURACY_PLOT.format(dataset=datasets[0]), len(datasets)),
        ("PGR per strong model", "pgr", PGR_PLOT.format(loss=losses[0]), len(losses)),
    ]
    if len(datasets) > 1:
        kinds.append(
            ("PGR per task", "pgr_by_task", PGR_BY_TASK_PLOT.format(loss=losses[0]), len(losses))
        )
    kinds += [
        ("Weak-to-strong scaling", "scaling", SCALING_PLOT.format(loss=losses[0]), len(losses)),
        (
            "Imitation of the weak supervisor",
            "agreement",
            AGREEMENT_PLOT.format(dataset=datasets[0]),
            len(datasets),
        ),
        (
            "Students over training",
            "trajectories",
            TRAJECTORIES_PLOT.format(dataset=datasets[0]),
            len(datasets),
        ),
        (
            "Accuracy per group of examples",
            "groups",
            GROUPS_PLOT.format(dataset=datasets[0]),
            len(datasets),
        ),
        ("Calibration", "calibration", CALIBRATION_PLOT.format(dataset=datasets[0]), len(datasets)),
    ]
    return kinds


def report_text(workflow_dir: str) -> str:
    """The report's first page: the one rule write_report_page wrote from the results, once it exists, else the
    workflow's static description."""
    return (
        os.path.abspath(REPORT_PAGE)
        if os.path.exists(REPORT_PAGE)
        else os.path.join(workflow_dir, "report/workflow.rst")
    )


def summary_files() -> list[str]:
    return [
        SUMMARY.format(table=table, ext=ext)
        for table in SUMMARY_TABLES
        for ext in ("csv", "parquet")
    ]


def label_shard_files(config: dict, dataset: str, seed: str, model: str) -> list[str]:
    shards = config["labelling"]["shards"]
    return [
        LABEL_SHARD.format(dataset=dataset, seed=seed, model=model, shard=shard, shards=shards)
        for shard in range(shards)
    ]


def label_files(config: dict) -> list[str]:
    weak_models = dict.fromkeys(weak for weak, _ in model_pairs(config))
    return [
        LABELS.format(dataset=dataset, seed=seed, model=model)
        for dataset in config["datasets"]
        for seed in config["seeds"]
        for model in weak_models
    ]


def final_targets(config: dict) -> list[str]:
    """The summary, the plots, the weak labels and every run's metrics. Each run is a deliverable too: Snakemake
    does not remake a missing intermediate file while what was made from it is newer, so a run whose folder was
    deleted, or whose job failed after its labels were damaged, would otherwise stay missing under an old summary."""
    return (
        summary_files()
        + label_files(config)
        + metrics_files(config)
        + [ACCURACY_PLOT.format(dataset=dataset) for dataset in config["datasets"]]
        + [PGR_PLOT.format(loss=loss) for loss in config["losses"]]
        + [PGR_BY_TASK_PLOT.format(loss=loss) for loss in config["losses"]]
        + [METHODS_PLOT.format(loss=loss) for loss in config["losses"]]
        + [AGREEMENT.format(ext=ext) for ext in ("csv", "parquet")]
        + [AGREEMENT_PLOT.format(dataset=dataset) for dataset in config["datasets"]]
        + [CALIBRATION.format(ext=ext) for ext in ("csv", "parquet")]
        + [CALIBRATION_PLOT.format(dataset=dataset) for dataset in config["datasets"]]
        + [TRAJECTORIES.format(ext=ext) for ext in ("csv", "parquet")]
        + [TRAJECTORIES_PLOT.format(dataset=dataset) for dataset in config["datasets"]]
        + [SCALING.format(ext=ext) for ext in ("csv", "parquet")]
        + [SCALING_PLOT.format(loss=loss) for loss in config["losses"]]
        + [GROUPS.format(ext=ext) for ext in ("csv", "parquet")]
        + [GROUPS_PLOT.format(dataset=dataset) for dataset in config["datasets"]]
        + [REPORT_PAGE]
    )


PACK_GROUP = "pack_{dataset}_seed{seed}"


def pack_group(config: dict, wildcards: dict) -> str | None:
    """The job group (one cluster submission) a job of one dataset and seed joins, where its model packs (models.
    <name>.pack); a job without a model (a split) joins where any model packs, which connects the group's jobs."""
    if "dataset" not in wildcards or "seed" not in wildcards:
        return None
    model = wildcards.get("model")
    packs = (
        config["models"][model]["pack"]
        if model
        else any(e["pack"] for e in config["models"].values())
    )
    return (
        PACK_GROUP.format(dataset=wildcards["dataset"], seed=wildcards["seed"]) if packs else None
    )


def job_group(config: dict):
    """A rule's `group:`, a function of a job's wildcards (pack_group)."""
    return lambda w: pack_group(config, dict(w.items()))


# Settings that change how a run reports and saves its progress, not its result: kept out of the rules' params so
# that changing them reruns nothing (the scripts read them from the config).
UNTRACKED_SETTINGS = ("log_every", "checkpoint_every", "group_by_length")


def untracked_job_settings(config: dict, model: str) -> dict:
    """What a training job reads from the config besides its params: how it reports and saves progress
    (`progress`, `logging`) and how it spends memory (`gradient_checkpointing`: the same update either way)."""
    return {
        "progress": {k: config["training"][k] for k in UNTRACKED_SETTINGS},
        "logging": config["logging"],
        "gradient_checkpointing": config["models"][model]["gradient_checkpointing"],
    }


def prediction_params(config: dict, model: str) -> dict:
    """What predicting with a trained `model` (its checkpoint) depends on: the rule params of labelling and
    test-prediction jobs, so that they rerun when these change, not when the training recipe does (the recipe
    reaches them through the checkpoint file). A model trained in several DeepSpeed processes also predicts in
    them (w2s.pipeline.run.prediction_model): its layout is part of these params; one of a single process predicts
    in one, as a plain model does."""
    entry = config["models"][model]
    launch = deepspeed_launch(entry)
    several = launch and launch["nodes"] * launch["processes_per_node"] > 1
    return {
        "dtype": entry["dtype"],
        "trust_remote_code": entry["trust_remote_code"],
        "max_length": entry["max_length"],
        "predict_batch_size": config["training"]["predict_batch_size"],
        "autocast": config["training"]["autocast"],
        **({"deepspeed": launch} if several else {}),
    }


def zero_shot_params(config: dict, model: str) -> dict:
    """What scoring `model`'s own answer depends on: the base model, its label tokens and how it predicts."""
    entry = config["models"][model]
    return {
        "source": model_source(config, model),
        "label_tokens": label_tokens(entry),
        **prediction_params(config, model),
    }


def training_params(config: dict, model: str, dataset: str, seed: int) -> dict:
    """Everything a finetuning run's result depends on besides its data and loss: goes into the rule's params."""
    entry = config["models"][model]
    return {
        "source": run_source(config, model, dataset, seed),
        "dtype": entry["dtype"],
        "head_init": entry["head_init"],
        "label_tokens": label_tokens(entry),
        "trust_remote_code": entry["trust_remote_code"],
        "max_length": entry["max_length"],
        **(
            {"mode": "probe"} if entry["mode"] == "probe" else {}
        ),  # absent for finetuning: its params as before
        **({"lora": entry["lora"]} if "lora" in entry else {}),
        "settings": {
            "lr": entry["lr"],
            "batch_size": entry["batch_size"],
            "minibatch_size": entry["minibatch_size"],
            "seed": int(seed),
            **{
                k: v
                for k, v in config["training"].items()
                if k not in ("predict_batch_size", "early_stopping", *UNTRACKED_SETTINGS)
            },
        },
        "predict_batch_size": config["training"]["predict_batch_size"],
        "deepspeed": deepspeed_launch(entry),
    }


def deepspeed_launch(entry: dict) -> dict | None:
    """A model entry's DeepSpeed settings with its process layout resolved; None for a plain run."""
    if "deepspeed" not in entry:
        return None
    processes = entry["deepspeed"].get("processes_per_node") or max(1, entry.get("gpus", 0))
    return {**entry["deepspeed"], "processes_per_node": processes, "nodes": entry.get("nodes", 1)}
