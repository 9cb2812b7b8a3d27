"""Golden snapshots of the rules' params, the upgrade safety of what w2s computes for them.

Snakemake reruns a job whose params differ from those recorded with its outputs (the rerun trigger `params`, which
compares the repr of each param value). The params come from w2s/pipeline/rule_params.py and the rules, so a
refactor there that changes a value, a key or even a key's order would make every finished grid of the configs it
touches retrain. This builds each shipped config's DAG with Snakemake itself (a dry run's worth of work, nothing
executed) and fingerprints, per rule, the serialised params of every job, as Snakemake stores them.

    python tests/helpers/params_snapshot.py --write    # after an intended change: say which jobs it reruns

The reporting rules (summary, analyses, plots, the report's page) are left out: they are cheap to rerun, and a
new table or column is meant to rerun them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = REPO / "tests/golden/rule_params.json"
REPORTING = {"summarize_runs", "plot_results", "write_report_page", "all"}


def shipped_configs() -> list[str]:
    return ["config.yaml", *sorted(f"configs/{p.name}" for p in (REPO / "configs").glob("*.yaml"))]


def fingerprints(config: str) -> dict[str, dict]:
    """Rule -> its jobs' count and the sha256 of their serialised params (one line per job, sorted)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        ResourceSettings,
    )

    lines: dict[str, list[str]] = {}
    with (
        tempfile.TemporaryDirectory() as workdir,
        SnakemakeApi(OutputSettings(quiet={"all"})) as api,
    ):
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[REPO / config]),
            snakefile=REPO / "Snakefile",
            workdir=Path(workdir),
        )
        workflow = workflow_api.dag(DAGSettings()).workflow_api._workflow
        workflow._prepare_dag(forceall=False, ignore_incomplete=False, lock_warn_only=True)
        workflow._build_dag()
        for job in workflow.dag.jobs:
            rule = job.rule.name
            if rule in REPORTING or rule.startswith("analyse_"):
                continue
            wildcards = json.dumps(dict(job.wildcards), sort_keys=True)
            params = json.dumps(workflow.persistence._params(job))
            lines.setdefault(rule, []).append(f"{wildcards}\t{params}")
    return {
        rule: {
            "jobs": len(jobs),
            "sha256": hashlib.sha256("\n".join(sorted(jobs)).encode()).hexdigest(),
        }
        for rule, jobs in sorted(lines.items())
    }


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = (
        "1"  # the hub models' shapes come from the cache or not at all: no waiting
    )
    os.chdir(
        REPO
    )  # the Snakefile's relative paths (report captions, envs) are read from the repository
    configs = [a for a in sys.argv[1:] if not a.startswith("--")] or shipped_configs()
    prints = {config: fingerprints(config) for config in configs}
    if "--write" in sys.argv:
        SNAPSHOT.write_text(json.dumps(prints, indent=1, sort_keys=True) + "\n")
        print(f"wrote {SNAPSHOT}: {len(prints)} configs")
    else:
        print(json.dumps(prints, sort_keys=True))


if __name__ == "__main__":
    main()
