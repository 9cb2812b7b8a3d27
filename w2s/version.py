"""The code version recorded in output metadata: package version plus a digest of the package's source."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from w2s import __version__


@lru_cache(maxsize=1)
def code_version() -> str:
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")) + sorted(package.rglob("*.yaml")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def checkpoint_sha256(checkpoint: str | Path) -> str:
    """One digest over a checkpoint's weight files (backbone and head), in name order."""
    digest = hashlib.sha256()
    for path in sorted(Path(checkpoint).glob("*.safetensors")):
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
