"""Upgrade safety: the job scripts whose jobs are expensive, or feed expensive ones, are byte-frozen.

Snakemake reruns a job whose rule's script is newer than its outputs (the rerun trigger `code`, which for a script
rule reads the script file's modification time), and a checkout rewrites only the files whose bytes changed. So an
edit to one of these scripts makes every finished grid rerun that rule's jobs and all that reads them (a split
script: every training run). The logic they run lives in w2s/, which Snakemake does not watch; change it there.
Where a change to one of these files is meant (a new input, say), update its pin here in the same commit and say in
the commit message which finished jobs it reruns.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"

# sha256 of each frozen script's bytes
FROZEN = {
    "build_base_model.py": "ad73e5a7ec3340ef4632468055fbb0b086d30fb09f514a2a2e2544b87a207169",
    "combine_ensemble.py": "eb3fda60a474462ecaa10c6639c5aea625a65dfceb8a60931be5b9580f1bdcf9",
    "crossfit_chain_labels.py": "05398a5cf569e848219cf828eb7946a526002de449173100451e238242773a11",
    "extract_activations.py": "f9f6ddfe98ab1e3c5357091ed27d9f7ad8e905f30f9312608fdd787dd0b6cd7a",
    "finetune.py": "287e4ee14639263b71546578c5512ab4b010ddc3bbe8259c64dc1672bb6358e4",
    "generate_world.py": "8bbc2c5f0fcd5d18343b8d92f2c8d2f08faa50d5aa535eb76ca8d2079cb547b4",
    "generative_finetune.py": "de341f575929e5f459ae7f93095b260f477d8a033b42281a4ac6108db307b6df",
    "merge_label_shards.py": "731568085278b2d6b685776f70598d27eef44d31dc31bd885a2af61b708eb097",
    "predict_shard.py": "9cc81b00e7f2b6a022ebb81f3617e80297b6bd3943bec0a558a0417c06cb6248",
    "pretrain_model.py": "1c95a70294209f5c3a7e9edb8c276833a26ae66a034641f8bd3330472a6bef34",
    "score_run.py": "729f24ba46386f7c3fd051131f9292ae9b1ba957014e340adaebc489555480f4",
    "score_few_shot.py": "01864ff3754557256b24767b14206a6195f8728748fbd5c1cc36eafbfcc3958f",
    "score_zero_shot.py": "28bee50298032e44ba11a2d7371c9cfa46ba2da8f1b6e560cebb2db58bbe2c74",
    "split_chain_train.py": "5eadd1e5bde74810a72484c72c209b8f383c7a382e8131d3f55b9985bd4f14fa",
    "split_dataset.py": "1bcd6e2f6c24af0aad0755345b3da3da94a69682b18b590d1a4e67de6bda3954",
    "split_validation.py": "aa75676626eee270572427b282884833922c47253daa3d3e704a19148ceecc5b",
}
# the scripts of rules that only read results (summary, plots, analyses, the report's page): free to change, and
# their jobs rerun in seconds
FREE = {"analyse.py", "plot.py", "summarize.py", "write_report_page.py"}


def test_every_job_script_is_frozen_or_free_to_change():
    """A new script is put in one list or the other, deliberately."""
    assert {p.name for p in SCRIPTS.glob("*.py")} == set(FROZEN) | FREE


def test_every_job_a_script_names_runs_and_every_module_it_imports_is_there():
    """The scripts keep their bytes while the code moves: each `module:function` a script hands to run_job is routed
    to an entry point that exists, and each w2s module it imports still exports the names it takes."""
    import importlib
    import re

    from w2s.process.entry_points import JOBS, entry_point, script_entry_point

    for script in SCRIPTS.glob("*.py"):
        text = script.read_text()
        for name in re.findall(r'"(w2s\.[a-z_.]+:[a-z_]+)"', text):
            routed = script_entry_point(name)
            assert routed in JOBS and callable(entry_point(routed)), (script.name, name)
        for module, names in re.findall(r"^from (w2s[a-z_.]*) import (.+)$", text, re.MULTILINE):
            imported = importlib.import_module(module)
            assert all(hasattr(imported, n.strip()) for n in names.split(",")), (
                script.name,
                module,
            )


def test_frozen_job_scripts_keep_their_bytes():
    changed = [
        name
        for name, digest in FROZEN.items()
        if hashlib.sha256((SCRIPTS / name).read_bytes()).hexdigest() != digest
    ]
    assert not changed, (
        f"byte-frozen job scripts changed: {changed}; every finished grid would rerun their jobs and what reads them. "
        "Move the change into w2s/, or, where it is meant, update the pins in tests/test_frozen_scripts.py"
    )


@pytest.mark.workflow
def test_every_shipped_configs_rule_params_match_their_snapshot():
    """What w2s computes for the rules' params is frozen too: a changed value, key or key order reruns every
    finished job of the rule (Snakemake's params trigger). Built by Snakemake itself from each shipped config, in a
    process of its own; after an intended change, `python tests/helpers/params_snapshot.py --write` and a commit
    message that says which finished jobs rerun."""
    from helpers.params_snapshot import SNAPSHOT

    result = subprocess.run(
        [sys.executable, str(REPO / "tests/helpers/params_snapshot.py")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    now, pinned = json.loads(result.stdout), json.loads(SNAPSHOT.read_text())
    changed = [
        f"{config}: rule {rule} ({pinned[config].get(rule, {}).get('jobs', 0)} -> "
        f"{now[config].get(rule, {}).get('jobs', 0)} jobs)"
        for config in sorted(set(now) | set(pinned))
        for rule in sorted(set(now.get(config, {})) | set(pinned.get(config, {})))
        if now.get(config, {}).get(rule) != pinned.get(config, {}).get(rule)
    ]
    assert not changed, (
        "rule params changed (finished grids would rerun these jobs):\n" + "\n".join(changed)
    )
