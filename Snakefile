# w2s: weak-to-strong generalization experiments (Burns et al. 2023) as a Snakemake workflow.
# The grid comes from config.yaml (or --configfile); w2s/pipeline/ turns it into runs (grid.py), paths (paths.py),
# the rules' params (rule_params.py), inputs and outputs (rule_io.py), analyses (analyses.py) and targets (targets.py).
import os
import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The workflow and its jobs import the w2s package from this checkout, also inside conda environments of the rules
# (--software-deployment-method conda), which hold the dependencies but not the package itself.
sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [workflow.basedir, os.environ.get("PYTHONPATH")]))


envvars:
    "PYTHONPATH",


from w2s.pipeline.config import read_config_file, validate_config
from w2s.errors import W2SError
from w2s.pipeline import analyses, cluster, grid, paths, rule_io, rule_params, targets
from w2s.pipeline.grid import Run

# A --configfile replaces the default grid rather than being merged into it (Snakemake merges by default, which
# would silently add the default's datasets and models to yours).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


try:
    for path in workflow.overwrite_configfiles or ["config.yaml"]:
        read_config_file(path)
    validate_config(config)
except W2SError as exc:
    raise WorkflowError(str(exc)) from None


# The first page: written from the results by rule write_report_page, once they exist.
report: targets.report_text(workflow.basedir)


wildcard_constraints:
    dataset="|".join(map(re.escape, config["datasets"])),
    model="|".join(map(re.escape, config["models"])),
    weak="|".join(map(re.escape, [*config["models"], *config["ensembles"]])),
    ensemble="|".join(map(re.escape, config["ensembles"])) or "(?!)",
    shots="|".join(map(re.escape, ["truth", *config["models"], *config["ensembles"]])),
    loss="|".join(map(re.escape, config["losses"])),
    chain="|".join(map(re.escape, grid.chain_ids(config))) or "(?!)",
    world="|".join(map(re.escape, config["worlds"])) or "(?!)",
    seed=r"\d+",
    split=r"weak_train|strong_train|test|validation|chain_train\d+",
    shard=r"\d+",
    shards=r"\d+",


rule all:
    input:
        targets.final_targets(config),


include: "rules/world.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/training.smk"
include: "rules/labels.smk"
include: "rules/test_predictions.smk"
include: "rules/baselines.smk"
include: "rules/report.smk"
