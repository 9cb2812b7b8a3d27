"""Local copies of Hugging Face Hub repositories: what a grid's hub models and hub datasets are loaded from.

A reference is a repository, a revision (branch, tag or commit; `main` by default) and the files a job needs. Jobs
load from its snapshot in the Hugging Face cache (`HF_HUB_CACHE`, by default ~/.cache/huggingface/hub). Where the hub
can be reached, a job downloads what is missing first; with the hub offline (`HF_HUB_OFFLINE=1`, as on compute
nodes without internet) the snapshot must be there already, put there by `w2s fetch` on a machine that reaches the
hub (a login node), and a job that misses one says which and that command. A model's hub id carries its revision as
`<id>@<revision>`, the way the hub's own `hf://` paths write one, and `:converted` after both where the model opts in
to loading a pickle-only revision through a conversion to safetensors (w2s.converted; a ":" is in no hub id or git
revision).
"""

from __future__ import annotations

import fnmatch
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from w2s.errors import W2SError

# What loading a model reads: configs, safetensors weights (never pickles), tokenizer files and the model's own code
# (small; it runs only where the entry sets trust_remote_code). A hub repository also holds other frameworks'
# weights (GPT-2's: TF, Flax, ONNX, Core ML), which stay on the hub.
MODEL_FILES = ("*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "tokenizer*", "*.py")
FETCH_HINT = (
    "run `w2s fetch <config>` for this grid on a machine that reaches the hub (a cluster's login node), "
    "with the same HF_HUB_CACHE as the jobs"
)
CONVERTED = ":converted"


@dataclass(frozen=True)
class HubRef:
    repo_id: str
    revision: str = "main"
    kind: str = "model"  # or "dataset"
    data_dir: str | None = None  # a dataset's folder: only its files are fetched
    converted: bool = False  # a model's pickled weights, loaded as their conversion to safetensors

    def __str__(self) -> str:
        converted = " (its pickled weights converted)" if self.converted else ""
        return f"{self.kind} {self.repo_id} at revision {self.revision}{converted}"


def looks_like_local_path(name: str) -> bool:
    """Hub ids are 'name' or 'org/name' (with '@revision' or not); anything else (./x, /x, ~/x, a/b/c) is meant as a
    local directory."""
    repo = name.partition("@")[0]  # a revision may hold slashes itself (refs/pr/1)
    return name.startswith((".", "/", "~")) or repo.count("/") > 1 or os.path.isdir(name)


def split_revision(spec: str) -> tuple[str, str | None]:
    """'org/name@rev' -> ('org/name', 'rev'); a spec without '@' has no revision (a `:converted` mark is dropped)."""
    name, _, revision = spec.removesuffix(CONVERTED).partition("@")
    return name, revision or None


def model_ref(spec: str) -> HubRef:
    name, revision = split_revision(spec)
    return HubRef(name, revision or "main", converted=spec.endswith(CONVERTED))


def cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def offline() -> bool:
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE


def wanted_files(ref: HubRef) -> list[str] | None:
    """The patterns of the files a job reads from the repository (None: all of them). A dataset's config needs the
    whole repository: `datasets` reads every config its README names to load one of them."""
    if ref.kind == "model":
        return [*MODEL_FILES, "*.bin"] if ref.converted else list(MODEL_FILES)
    if ref.data_dir:
        return [
            "README.md",
            "*.py",
            f"{ref.data_dir.strip('/')}/**",
        ]  # *.py: to tell a loading script
    return None


def wanted(path: str, patterns: list[str] | None) -> bool:
    """Whether a repository file matches the patterns, as huggingface_hub's allow_patterns match them."""
    return patterns is None or any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def local_copy(ref: HubRef) -> Path:
    """The reference's snapshot in the cache; downloaded first where the hub is reachable and not set offline (a
    converted model's: its converted folder, made once from the snapshot). Asked once per process for each cache and
    mode: a job loads its model's weights, tokenizer and identity from it."""
    snapshot = _remembered_download(ref, cache_dir(), offline())
    return converted_copy(ref, snapshot) if ref.converted else snapshot


def converted_copy(ref: HubRef, snapshot: Path) -> Path:
    from w2s.converted import converted_copy as convert

    return convert(snapshot, cache_dir(), ref.repo_id, ref.revision, str(ref))


def download(ref: HubRef, cache: str, offline_now: bool) -> Path:
    """The snapshot, asked of huggingface_hub (which downloads what is missing unless offline)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return Path(
            snapshot_download(
                ref.repo_id,
                repo_type=ref.kind,
                revision=ref.revision,
                cache_dir=cache,
                allow_patterns=wanted_files(ref),
            )
        )
    except (RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise W2SError(
            f"{ref}: the hub has no such repository or revision ({type(exc).__name__})"
        ) from None
    except LocalEntryNotFoundError:
        where = (
            "the hub is offline (HF_HUB_OFFLINE)"
            if offline_now
            else "the hub cannot be reached from here"
        )
        raise W2SError(
            f"{ref} is not in the Hugging Face cache {cache} and {where}: {FETCH_HINT}"
        ) from None


_remembered_download = functools.lru_cache(maxsize=None)(download)


@dataclass(frozen=True)
class Fetched:
    ref: HubRef
    path: Path
    files: int
    bytes: int
    problems: list[str]


def fetch(ref: HubRef) -> Fetched:
    """Download the reference's files into the cache, then check them against the hub's checksums (git blob ids,
    and the sha256 of LFS files); the count and bytes are of the files it wants (a snapshot may hold more: other
    folders of one repository, fetched for other tasks)."""
    from huggingface_hub import HfApi

    if offline():
        raise W2SError(
            f"{ref}: the hub is set offline (HF_HUB_OFFLINE); fetch on a machine that reaches it"
        )
    path = download(
        ref, cache_dir(), False
    )  # asked again, not remembered: fetching must see the cache as it is
    patterns = wanted_files(ref)
    check = HfApi().verify_repo_checksums(ref.repo_id, repo_type=ref.kind, revision=ref.revision)
    missing = [p for p in check.missing_paths if wanted(p, patterns)]
    problems = [
        f"{m['path']}: {m['algorithm']} {m['actual']} where the hub has {m['expected']} (changed since it "
        f"was downloaded: delete {path} and fetch again)"
        for m in check.mismatches
    ]
    problems += [f"{p}: missing" for p in missing]
    if ref.converted and not problems:
        path = converted_copy(ref, path)
    if ref.kind == "model" and not any(path.glob("*.safetensors")):
        pickled = sorted(
            p for p in check.missing_paths if p.endswith((".bin", ".pt", ".pth", ".ckpt"))
        )
        only = f" (only {', '.join(pickled)})" if pickled else ""
        problems.append(
            f"no safetensors weights at this revision{only}: w2s loads no pickled weights unless the model entry "
            "opts in with convert_pickle: true (then `w2s fetch` converts them to safetensors reading tensors "
            'only; docs/configuration.md, "Hub models and datasets")'
        )
    files = [
        f
        for f in path.rglob("*")
        if f.is_file() and wanted(f.relative_to(path).as_posix(), patterns)
    ]
    return Fetched(ref, path, len(files), sum(os.path.getsize(f) for f in files), problems)


@dataclass(frozen=True)
class Pending:
    ref: HubRef
    cached: bool  # every file is in the cache
    missing_bytes: int | None  # what fetching would download; None where the hub cannot be asked


def pending(ref: HubRef) -> Pending:
    """Whether the reference is fetched, and what fetching it would download (a dry run against the hub)."""
    from huggingface_hub import snapshot_download

    try:
        infos = snapshot_download(
            ref.repo_id,
            repo_type=ref.kind,
            revision=ref.revision,
            allow_patterns=wanted_files(ref),
            dry_run=True,
        )
    except (
        Exception
    ):  # the hub out of reach or offline: the cache alone tells whether a snapshot is there
        try:
            snapshot_download(
                ref.repo_id, repo_type=ref.kind, revision=ref.revision, local_files_only=True
            )
            return Pending(ref, True, 0)
        except Exception:
            return Pending(ref, False, None)
    missing = [info for info in infos if not info.is_cached]
    return Pending(ref, not missing, sum(info.file_size or 0 for info in missing))
