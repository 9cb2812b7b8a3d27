"""Hub revisions whose weights are a pickle only (Pythia's `step*` branches hold just `pytorch_model.bin`), converted
to safetensors once, where a model entry opts in (`convert_pickle: true`).

w2s loads no pickle, since unpickling can run code. The conversion reads the pickle with
`torch.load(weights_only=True)`, whose unpickler builds tensors and plain containers only and refuses any other
object, so a payload in the file is never run; what it holds must be a flat mapping of names to tensors. The result is
a folder in the Hugging Face cache, beside the snapshots (`<cache>/w2s-converted/<repo folder>/<commit>/`): the
snapshot's other files (configs, tokenizer) copied, each pickle as a safetensors file of the same tensors, its index
rewritten for sharded weights, and `conversion.json` recording the repository, revision, commit and each pickle's
sha256. A model that opts in has `:converted` after its hub id and revision in its params (its identity), so turning
the option on or off reruns that model's runs and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from w2s.errors import W2SError
from w2s.io import atomic_path

PICKLE_INDEX, SAFETENSORS_INDEX = "pytorch_model.bin.index.json", "model.safetensors.index.json"
RECORD = "conversion.json"


def converted_name(pickle_name: str) -> str:
    """`pytorch_model.bin` -> `model.safetensors`; `pytorch_model-00001-of-00002.bin` -> `model-00001-of-00002...`."""
    return pickle_name.removeprefix("pytorch_").removesuffix(".bin") + ".safetensors"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_tensors(path: Path, label: str) -> dict:
    """The tensors of a pickled state dict, read without running any code it may carry."""
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise W2SError(
            f"{label}: {path.name} is not a pickle of tensors only, so it was not converted (torch.load with "
            f"weights_only=True refused it: {first})"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise W2SError(
            f"{label}: {path.name} holds no mapping of names to tensors (a model's state dict), so it was not "
            "converted"
        )
    # safetensors stores no shared memory: tied weights become two equal tensors, as save_pretrained writes them
    return {name: tensor.detach().clone().contiguous() for name, tensor in state.items()}


def convert_snapshot(snapshot: Path, out: Path, label: str, record: dict) -> Path:
    """Write the converted copy of `snapshot` to `out` (atomically; nothing is written on an error)."""
    from safetensors.torch import save_file

    pickles = sorted(p for p in snapshot.iterdir() if p.suffix == ".bin")
    if not pickles:
        raise W2SError(f"{label}: no pickled weights (*.bin) to convert at this revision")
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.mkdir()
        for file in snapshot.iterdir():
            if file.is_file() and file.suffix != ".bin" and file.name != PICKLE_INDEX:
                shutil.copyfile(file, tmp / file.name)
        sums = {}
        for pickle_file in pickles:
            tensors = read_tensors(pickle_file, label)
            save_file(tensors, tmp / converted_name(pickle_file.name), metadata={"format": "pt"})
            sums[pickle_file.name] = sha256(pickle_file)
        if (snapshot / PICKLE_INDEX).is_file():
            index = json.loads((snapshot / PICKLE_INDEX).read_text())
            index["weight_map"] = {k: converted_name(v) for k, v in index["weight_map"].items()}
            (tmp / SAFETENSORS_INDEX).write_text(json.dumps(index, indent=2) + "\n")
        (tmp / RECORD).write_text(json.dumps({**record, "pickles_sha256": sums}, indent=2) + "\n")
    return out


def converted_copy(snapshot: Path, cache: str, repo_id: str, revision: str, label: str) -> Path:
    """The converted folder of a snapshot (its commit is the snapshot folder's name), made once."""
    commit = snapshot.name
    out = Path(cache) / "w2s-converted" / f"models--{repo_id.replace('/', '--')}" / commit
    if (out / RECORD).is_file():
        return out
    record = {"repo_id": repo_id, "revision": revision, "commit": commit}
    return convert_snapshot(snapshot, out, label, record)
