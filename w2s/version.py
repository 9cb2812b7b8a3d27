"""What outputs record about the code and checkpoints that made them: the code version (package version plus a digest
of the package's source), a checkpoint's digest and its parameter count."""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path

from w2s import __version__

BASE_FILE = (
    "base_model.json"  # a LoRA checkpoint's record of the base model it adapts (w2s.models.lora)
)


@lru_cache(maxsize=1)
def code_version() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")) + sorted(package.rglob("*.yaml")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


DIGEST_FILE = "checkpoint_sha256.json"  # a checkpoint's digest, recorded where it is written


def digested_files(checkpoint: str | Path) -> list[Path]:
    """What a checkpoint's digest covers: its weight files (backbone or adapters, and head) and, for adapters, the
    record of the base model they adapt, in name order."""
    return sorted([*Path(checkpoint).glob("*.safetensors"), *Path(checkpoint).glob(BASE_FILE)])


def compute_checkpoint_sha256(checkpoint: str | Path) -> str:
    digest = hashlib.sha256()
    for path in digested_files(checkpoint):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def record_checkpoint_sha256(checkpoint: str | Path) -> str:
    """Digest a checkpoint once, where it is written, and keep the digest beside it with its files' sizes: every
    labelling shard of a 7B model would otherwise read its 28 GB again."""
    digest = compute_checkpoint_sha256(checkpoint)
    sizes = {path.name: path.stat().st_size for path in digested_files(checkpoint)}
    (Path(checkpoint) / DIGEST_FILE).write_text(json.dumps({"sha256": digest, "sizes": sizes}))
    return digest


def checkpoint_sha256(checkpoint: str | Path) -> str:
    """One digest over a checkpoint's files (digested_files): the one recorded when it was written where its files
    are still those it was recorded for (by name and size), else computed."""
    recorded = Path(checkpoint) / DIGEST_FILE
    if recorded.is_file():
        record = json.loads(recorded.read_text())
        sizes = {path.name: path.stat().st_size for path in digested_files(checkpoint)}
        if record.get("sizes") == sizes:
            return record["sha256"]
    return compute_checkpoint_sha256(checkpoint)


def checkpoint_parameters(checkpoint: str | Path) -> int:
    """The number of parameters a checkpoint stores (backbone or adapters, and head), from its safetensors headers:
    no weights are read. Tied weights are stored once, so they count once."""
    total = 0
    for path in Path(checkpoint).glob("*.safetensors"):
        with open(path, "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        total += sum(
            math.prod(entry["shape"]) for name, entry in header.items() if name != "__metadata__"
        )
    return total
