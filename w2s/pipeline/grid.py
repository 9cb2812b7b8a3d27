"""The experiment grid: every run a config asks for, as one `Run` record each, and the config's settings that
decide which jobs and files a run has. Paths are in w2s.pipeline.paths, the rules' params in
w2s.pipeline.rule_params, their inputs and outputs in w2s.pipeline.rule_io, the analyses in w2s.pipeline.analyses
and the final targets in w2s.pipeline.targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from w2s.data.prompting import TRUTH
from w2s.kinds import of_entry
from w2s.pipeline.config_checks import label_tokens
from w2s.pipeline.paths import PACK_GROUP, RUN_FOLDERS

MODES = ("finetune", "probe")  # models.<name>.mode


@dataclass(frozen=True)
class Run:
    """One run of the grid: a model trained (or, zero_shot, scored untrained) on one dataset and seed.

    role: weak (ground truth of weak_train; labels strong_train), ceiling (ground truth of strong_train), student
    (the weak model `weak`'s labels, with `loss`), chain (a bootstrapping chain's link after its first student:
    `chain`'s models joined by "+", whose first model is `weak`), zero_shot (the model's own answer, untrained),
    few_shot (its answer, untrained, to k-shot prompts whose examples show the truth, or with `weak` the weak
    model's labels) or ensemble (`model` an ensemble of the config: its members' labels combined, nothing trained).
    """

    role: str
    dataset: str
    seed: int
    model: str
    weak: str | None = None
    loss: str | None = None
    chain: str | None = None

    @classmethod
    def of(cls, role: str, wildcards) -> Run:
        """The run a job of a rule for `role` is about, from the job's wildcards (or a dict of them)."""
        w = dict(wildcards.items())
        weak = w["chain"].split("+")[0] if role == "chain" else w.get("weak")
        if role == "few_shot":
            weak = None if w["shots"] == TRUTH else w["shots"]
        return cls(
            role, w["dataset"], int(w["seed"]), w["model"], weak, w.get("loss"), w.get("chain")
        )

    @property
    def fields(self) -> dict:
        """The run's wildcards: the values its folder pattern takes."""
        fields = {"dataset": self.dataset, "seed": self.seed, "model": self.model}
        if self.role == "ensemble":
            return {"dataset": self.dataset, "seed": self.seed, "ensemble": self.model}
        if self.role == "student":
            fields["weak"] = self.weak
        if self.role == "few_shot":
            fields["shots"] = self.weak or TRUTH
        if self.role == "chain":
            fields["chain"] = self.chain
        return {**fields, "loss": self.loss} if self.loss else fields

    @property
    def folder(self) -> str:
        return RUN_FOLDERS[self.role].format(**self.fields)

    @property
    def links(self) -> list[str]:
        return self.chain.split("+") if self.chain else []

    @property
    def supervisor(self) -> str | None:
        """The model whose labels this run learns from: a student's weak model, a chain link's previous link."""
        if self.role == "chain":
            return self.links[self.links.index(self.model) - 1]
        return self.weak if self.role == "student" else None


def model_pairs(config: dict) -> list[tuple[str, str]]:
    """The (weak, strong) pairs: those the config names, and each chain's first model with every later link (its
    first student, and the direct students a chain's links are compared with)."""
    if config["pairs"] == "all":
        order = list(config["models"])
        pairs = list(combinations(order, 2)) + [
            (name, model)
            for name, entry in config["ensembles"].items()
            for model in order[max(map(order.index, entry["members"])) + 1 :]
        ]
    else:
        pairs = [(pair["weak"], pair["strong"]) for pair in config["pairs"]]
    chained = [(chain[0], model) for chain in config["chains"] for model in chain[1:]]
    return list(dict.fromkeys(pairs + chained))


def dataset_pairs(config: dict, dataset: str) -> list[tuple[str, str]]:
    """The pairs whose students learn `dataset`: all of them, less those an ensemble supervises on generated
    answers (an ensemble combines two classes' soft labels: w2s.pipeline.ensembles)."""
    ensembles = of_entry(config["datasets"][dataset]).supervised_by_ensembles
    return [p for p in model_pairs(config) if ensembles or p[0] not in config["ensembles"]]


def dataset_ensembles(config: dict, dataset: str) -> list[str]:
    """The ensembles that supervise on `dataset`: every one used, except on generated answers."""
    return (
        ensembles_used(config)
        if of_entry(config["datasets"][dataset]).supervised_by_ensembles
        else []
    )


def supervisors(config: dict) -> list[str]:
    """The weak side of the pairs: models, and ensembles."""
    return list(dict.fromkeys(weak for weak, _ in model_pairs(config)))


def ensembles_used(config: dict) -> list[str]:
    return [name for name in supervisors(config) if name in config["ensembles"]]


def weak_models(config: dict) -> list[str]:
    """The models that train as weak models and label: the weak side of the pairs, an ensemble's members in its
    place."""
    found = []
    for name in supervisors(config):
        found += config["ensembles"][name]["members"] if name in config["ensembles"] else [name]
    return list(dict.fromkeys(found))


def strong_models(config: dict) -> list[str]:
    return list(dict.fromkeys(strong for _, strong in model_pairs(config)))


def zero_shot_models(config: dict, dataset: str) -> list[str]:
    """Models of the pairs that have a zero-shot answer to score: on a generative task every model (it writes its
    answer), on a comparison task every model (its label tokens' reward, or without them the likelihood of each
    completion, w2s.models.likelihood), on a classification task those with label tokens."""
    models = {model for pair in model_pairs(config) for model in pair}
    every = of_entry(config["datasets"][dataset]).answers_untrained
    return [
        m for m in config["models"] if m in models and (every or label_tokens(config["models"][m]))
    ]


def few_shot_runs(config: dict, dataset: str, seed: int) -> list[Run]:
    """k-shot prompting (config few_shot): each strong model with a zero-shot answer, prompted with examples of
    strong_train labelled with the truth, and with each of its supervisors' labels."""
    setting = config["few_shot"]
    if not setting:
        return []
    found = []
    for model in zero_shot_models(config, dataset):
        weak = [w for w, strong in dataset_pairs(config, dataset) if strong == model]
        if not weak:
            continue
        labels = ([None] if TRUTH in setting["labels"] else []) + (
            weak if "weak" in setting["labels"] else []
        )
        found += [Run("few_shot", dataset, seed, model, w) for w in labels]
    return found


def prompt_rows(config: dict) -> int:
    """How many rows' worth of tokens a k-shot prompt may hold: its k examples and the item (the job's length, the
    plan's memory and runtime all scale by it)."""
    return config["few_shot"]["k"] + 1


def chain_ids(config: dict) -> list[str]:
    return ["+".join(chain) for chain in config["chains"]]


def runs(config: dict, roles: tuple[str, ...] | None = None) -> list[Run]:
    """Every run of the grid (of `roles` only, if given), per dataset and seed: the weak models, the ceilings, the
    zero-shot scores, the students of every pair and loss, and the chain links after each chain's first student."""
    found = []
    for dataset in config["datasets"]:
        for seed in map(int, config["seeds"]):
            here = {"dataset": dataset, "seed": seed}
            found += [Run("weak", **here, model=m) for m in weak_models(config)]
            found += [Run("ensemble", **here, model=e) for e in dataset_ensembles(config, dataset)]
            found += [Run("ceiling", **here, model=m) for m in strong_models(config)]
            found += [Run("zero_shot", **here, model=m) for m in zero_shot_models(config, dataset)]
            found += few_shot_runs(config, dataset, seed)
            found += [
                Run("student", **here, model=strong, weak=weak, loss=loss)
                for weak, strong in dataset_pairs(config, dataset)
                for loss in dataset_losses(config, dataset)
            ]
            found += [
                Run("chain", **here, model=model, weak=chain[0], loss=loss, chain="+".join(chain))
                for chain in config["chains"]
                for loss in dataset_losses(config, dataset)
                for model in chain[2:]
            ]
    return [run for run in found if roles is None or run.role in roles]


# Settings that decide which jobs and files a run has.


def dataset_losses(config: dict, dataset: str) -> list[str]:
    """The losses a dataset's students train with: those its kind does not refuse (on generated answers, the losses
    defined there)."""
    kind = of_entry(config["datasets"][dataset])
    return [
        name for name, entry in config["losses"].items() if not kind.loss_refusal(entry["type"])
    ]


def test_shards(config: dict) -> int:
    return config["labelling"]["test_shards"]


def stopping_method(config: dict) -> str:
    """How strong runs pick early stops (training.early_stopping): none, weak_val or oracle."""
    return config["training"]["early_stopping"]


def uses_validation(config: dict) -> bool:
    """Whether the grid draws a validation split, which its weak models label: for early stopping by weak_val, or
    to fit an ensemble's weights on."""
    fitted = any(config["ensembles"][e]["weighting"] == "fitted" for e in ensembles_used(config))
    return stopping_method(config) == "weak_val" or fitted


def stops_early(config: dict, role: str, method: str = "weak_val") -> bool:
    """Whether runs of `role` pick early stops by `method` (weak_val, or any with "any"). Weak runs never do: the
    weak labels are written by the weak model's final checkpoint, so that checkpoint is every row's weak baseline
    (an early-stopped weak model's accuracy would be that of a model that labelled nothing)."""
    setting = stopping_method(config)
    trained_on_labels = role not in (
        "weak",
        "zero_shot",
        "few_shot",
        "ensemble",
    )  # these train nothing
    return trained_on_labels and setting != "none" and method in (setting, "any")


def labels_in_weak_job(config: dict) -> bool:
    """Unsharded labelling happens in the weak training job, with the model it holds: one process fewer per weak
    run (loading torch and transformers is most of a small job's time). Sharded labelling has jobs of its own."""
    return config["labelling"]["shards"] == 1


def writes_labels(config: dict, role: str) -> bool:
    """Whether the training job of `role` also writes the weak labels."""
    return role == "weak" and labels_in_weak_job(config)


def chain_folds(config: dict) -> int | str:
    """How a chain link labels the next link's training rows (`chain_labelling`): a number of folds, or fresh."""
    return config["chain_folds"]


def chain_labelling(config: dict) -> str:
    """How a chain link labels the next link's training rows: crossfit (chain_folds >= 2: strong_train, each fold
    by the link's model trained again on the other folds, w2s.jobs.crossfit), in_sample (chain_folds 1:
    strong_train, by the link's own student, which trained on those rows) or fresh (chain_folds fresh, as the
    paper does: a split of its own per link, which the link never saw)."""
    folds = chain_folds(config)
    return "fresh" if folds == "fresh" else "in_sample" if folds == 1 else "crossfit"


def chain_train_split(position: int) -> str:
    """With chain_folds fresh, the split the chain link at `position` (2 and on: the first student, at 1, learns
    strong_train) trains on, labelled by the link before it."""
    return f"chain_train{position}"


def chain_train_positions(config: dict) -> list[int]:
    """The positions of the chain links that train on a fresh split of their own (none unless chain_folds fresh)."""
    if chain_labelling(config) != "fresh" or not config["chains"]:
        return []
    return list(range(2, max(map(len, config["chains"]))))


def training_split(config: dict, run: Run) -> str:
    """The split whose rows a run trains on: weak_train for a weak model, strong_train for a ceiling or student,
    and for a chain link the next fresh split where chain_folds is fresh."""
    if run.role == "weak":
        return "weak_train"
    if run.role == "chain" and chain_labelling(config) == "fresh":
        return chain_train_split(run.links.index(run.model))
    return "strong_train"


def keeps_checkpoint(config: dict, role: str) -> bool:
    """Whether a run's checkpoint stays once the stages that read it are done (keep_checkpoints): a weak model's
    always, since its labels, and labels remade later, depend on it."""
    keep = config["keep_checkpoints"]
    return role == "weak" or keep is True or (isinstance(keep, list) and role in keep)


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


def is_probe(config: dict, model: str) -> bool:
    return config["models"][model]["mode"] == "probe"


def pack_group(config: dict, wildcards: dict) -> str | None:
    """The job group (one cluster submission) a job of one dataset and seed joins, where its model packs (models.
    <name>.pack); a job without a model (a split) joins where splits_pack says, which connects the group's jobs."""
    if "dataset" not in wildcards or "seed" not in wildcards:
        return None
    model = wildcards.get("model")
    packs = config["models"][model]["pack"] if model else splits_pack(config)
    return (
        PACK_GROUP.format(dataset=wildcards["dataset"], seed=wildcards["seed"]) if packs else None
    )


def splits_pack(config: dict) -> bool:
    """Whether a dataset's splits join its pack group: where some model packs, unless a model that does not pack
    supervises one that does. Its job, outside the group, would sit between the group's split and the group's
    student, a cycle Snakemake refuses to submit."""
    models = config["models"]
    supervises = model_pairs(config) + [
        link for chain in config["chains"] for link in zip(chain, chain[1:])
    ]
    return any(entry["pack"] for entry in models.values()) and not any(
        models[strong]["pack"] and not models[weak]["pack"] for weak, strong in supervises
    )


def job_group(config: dict):
    """A rule's `group:`, a function of a job's wildcards (pack_group)."""
    return lambda w: pack_group(config, dict(w.items()))
