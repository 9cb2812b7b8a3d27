"""Would a grid finished at an older commit retrain under this checkout?

Runs the workflow at REF (its own config.yaml, or --configfile, a path in REF's tree) in a fresh folder, updates
that folder's code to this checkout as `git pull` would (a file whose content changed gets a new modification
time, the others keep theirs: Snakemake reruns a rule whose script is newer than its outputs), keeps the config the
grid ran with, then dry-runs it and lists the jobs it would run. Only the summary, the analyses, the plots and the
report page may rerun after a change of code that moves no result; anything else is a failure (exit status 1).

    python bench/upgrade_check.py 6177536 [--configfile configs/paper_methods.yaml] [--workdir DIR] [--cores N]

A check, not a test: it runs a whole grid at another commit (minutes), so it is run by hand before a refactor
lands.
"""

from __future__ import annotations

import argparse
import filecmp
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAY_RERUN = re.compile(r"^(summarize_runs|plot_results|write_report_page|all|analyse_\w+)$")


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True).stdout


def unpack(ref: str, folder: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(git("archive", ref))) as archive:
        archive.extractall(folder, filter="data")


def snakemake(folder: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    command = [sys.executable, "-m", "snakemake", *args]
    result = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(
            f"{' '.join(command)} failed in {folder}:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout + result.stderr


def pull(folder: Path, ref: str) -> list[str]:
    """Bring `folder`'s files of `ref` to this checkout's: changed files rewritten, removed ones deleted."""
    new = set(git("ls-files", "-z").decode().split("\0")) - {""}
    old = set(git("ls-tree", "-r", "-z", "--name-only", ref).decode().split("\0")) - {""}
    changed = []
    for path in sorted(new):
        source, target = REPO / path, folder / path
        if not source.is_file():
            continue
        if not target.exists() or not filecmp.cmp(source, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            changed.append(path)
    for path in sorted(old - new):
        (folder / path).unlink(missing_ok=True)
    return changed


def planned(output: str) -> dict[str, int]:
    jobs = {}
    for line in output.split("Job stats:", 1)[-1].splitlines():
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
    return jobs if "Job stats:" in output else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", help="the commit whose finished grid to upgrade")
    parser.add_argument(
        "--configfile", default="config.yaml", help="the grid, a path in REF's tree"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where to run it (default: a temporary folder)"
    )
    parser.add_argument("--cores", default="all")
    args = parser.parse_args()
    folder = (args.workdir or Path(tempfile.mkdtemp(prefix="w2s_upgrade_"))) / args.ref
    unpack(args.ref, folder)
    print(f"running the grid {args.configfile} at {args.ref} in {folder} ...", flush=True)
    snakemake(folder, "--cores", args.cores, "--configfile", args.configfile)
    # The grid keeps the config it ran with: a changed config file in the checkout is a change of the
    # experiment (its jobs rerun by design), not of the code.
    grid = folder / "upgrade_check.config.yaml"
    shutil.copyfile(folder / args.configfile, grid)
    changed = pull(folder, args.ref)
    print(
        f"updated to {git('rev-parse', '--short', 'HEAD').decode().strip()}: {len(changed)} files changed"
    )
    jobs = planned(snakemake(folder, "-n", "--quiet", "rules", "--configfile", grid.name))
    retrains = {rule: n for rule, n in jobs.items() if not MAY_RERUN.match(rule)}
    for rule, n in jobs.items():
        print(f"  would run {n:4d} x {rule}{'' if MAY_RERUN.match(rule) else '   <- retrains'}")
    if retrains:
        raise SystemExit(f"a finished grid of {args.ref} would rerun {retrains}")
    print(
        f"a finished grid of {args.ref} reruns no training, labelling, splitting or pretraining job"
    )


if __name__ == "__main__":
    main()
