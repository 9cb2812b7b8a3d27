"""Where the workflow's files live: one pattern per kind of file, so a path is spelled in one place only.

Wildcards: {dataset}, {seed}, {model}, {weak} (a student's weak model or ensemble), {ensemble}, {loss}, {chain} (a
chain's models joined by "+"), {shots} (truth, or a weak model or ensemble),
{split}, {shard}/{shards}, {world}. A finished grid's folders depend on these:
changing one moves every run.
"""

from __future__ import annotations

DATA = "results/data/{dataset}/seed{seed}/{split}.parquet"
WORLD = "results/worlds/{world}"
BASE_MODEL = "results/base_models/{model}"
PRETRAINED = "results/pretrained/{model}"
GENERATIVE = (
    "results/generative/{dataset}/seed{seed}/{model}"  # finetuned as an LM on a task's texts
)
ACTIVATIONS = (
    "results/activations/{dataset}/seed{seed}/{model}/{split}.safetensors"  # a probe's inputs
)

# Run folders, one per role (w2s.pipeline.grid.Run.folder). A chain's link after its first student: CHAIN_STUDENT.
WEAK = "results/weak/{dataset}/seed{seed}/{model}"
CEILING = "results/ceiling/{dataset}/seed{seed}/{model}"
STUDENT = "results/student/{dataset}/seed{seed}/{weak}/{model}/{loss}"
CHAIN_STUDENT = "results/chain/{dataset}/seed{seed}/{chain}/{loss}/{model}"
ZERO_SHOT = "results/zero_shot/{dataset}/seed{seed}/{model}"
# k-shot prompting: {shots} is "truth" (the examples' true labels) or the weak model whose labels they show
FEW_SHOT = "results/few_shot/{dataset}/seed{seed}/{shots}/{model}"
ENSEMBLE = (
    "results/ensemble/{dataset}/seed{seed}/{ensemble}"  # an ensemble supervisor's test predictions
)
RUN_FOLDERS = {
    "weak": WEAK,
    "ceiling": CEILING,
    "student": STUDENT,
    "chain": CHAIN_STUDENT,
    "zero_shot": ZERO_SHOT,
    "few_shot": FEW_SHOT,
    "ensemble": ENSEMBLE,
}
TRAINED_ROLES = ("weak", "ceiling", "student", "chain")  # the roles a training rule makes

# Labels: the weak model's of strong_train (in shards when labelling.shards > 1), its labels of the validation split
# (early_stopping weak_val), and a chain link's labels of strong_train for the next link (and of validation).
LABELS = "results/labels/{dataset}/seed{seed}/{model}.parquet"  # {model}: an ensemble's name too
LABEL_SHARD = "results/labels/{dataset}/seed{seed}/{model}.shards/{shard}-of-{shards}.parquet"
VALIDATION_LABELS = "results/labels/{dataset}/seed{seed}/validation/{model}.parquet"
CHAIN_LABELS = "results/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/{model}.parquet"
CHAIN_VALIDATION_LABELS = (
    "results/labels/{dataset}/seed{seed}/chain/{chain}/{loss}/validation/{model}.parquet"
)
WEAK_CHECKPOINT = f"{WEAK}/checkpoint"
TEST_SHARD = (
    "{run}/test_predictions.shards/{{shard}}-of-{{shards}}.parquet"  # {run}: a folder pattern
)

SUMMARY = "results/summary/{table}.{ext}"
SUMMARY_TABLES = ("runs", "aggregate", "overall")
ANALYSIS = "results/analysis/{name}.{ext}"
TABLE_FORMATS = ("csv", "parquet")
ACCURACY_PLOT = "results/plots/accuracy_{dataset}.png"
PGR_PLOT = "results/plots/pgr_{loss}.png"
PGR_BY_TASK_PLOT = "results/plots/pgr_by_task/{loss}.png"
METHODS_PLOT = "results/plots/methods/{loss}.png"
REPORT_PAGE = "results/report/workflow.rst"  # the first page of `snakemake --report`

PACK_GROUP = "pack_{dataset}_seed{seed}"  # a packed model's job group


def split_file(split: str) -> str:
    """The pattern of one split's file, with the dataset and seed still wildcards."""
    return DATA.format(dataset="{dataset}", seed="{seed}", split=split)


def scored_outputs(folder: str) -> dict:
    """A finetuning run's test predictions and metrics, in its folder (a pattern such as WEAK, or a path)."""
    return {
        "metrics": f"{folder}/metrics.json",
        "predictions": f"{folder}/test_predictions.parquet",
    }


def log_folder(folder: str, kind: str = "logs") -> str:
    """A run folder's mirror under logs/ (or benchmarks/), as `snakemake --lint` asks."""
    return folder.replace("results/", f"{kind}/", 1)
