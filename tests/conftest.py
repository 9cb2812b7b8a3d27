"""Shared fixtures: one tiny random GPT-2 built once per session (test_model, test_train and test_jobs use it), and a
local Hugging Face Hub that every hub id in the session resolves against."""

import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The tests' helpers (tests/helpers/: tiny configs and Snakemake calls, the local hub, the Slurm cluster, ...) are
# imported by name from every test module.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))

from local_hub import LocalHub  # noqa: E402

# The caller's hub settings are not the tests' (cluster users export HF_HUB_OFFLINE=1, which would turn the local
# hub away): the session starts from none of them, and a test that wants one, offline mode included, sets it.
for name in [
    name for name in os.environ if name.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))
]:
    del os.environ[name]

# Before anything imports huggingface_hub, which reads these once: hub ids resolve against a local hub on the
# loopback address (never the real one), into a cache of this session's own.
HUB = LocalHub()
os.environ["HF_ENDPOINT"] = HUB.start()
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="w2s_test_hub_cache_")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# The model shapes the session counts are stored in a folder of its own, not the user's (w2s.pipeline.shape_store).
os.environ["W2S_CACHE"] = tempfile.mkdtemp(prefix="w2s_test_cache_")

import pytest  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from w2s.models.build import build_model  # noqa: E402

# The test machine is shared and small: keep every test on one thread.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    """A randomly initialised 1-layer gpt2 (hidden size 16, dropout 0) with the byte tokenizer, as a local dir."""
    return build_model(
        tmp_path_factory.mktemp("base") / "tiny_gpt2",
        "gpt2",
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        max_position=128,
        seed=0,
    )


@pytest.fixture(scope="module")
def private_datasets_cache(tmp_path_factory):
    """Keep the Arrow files `datasets` builds from fixtures out of the user's cache."""
    import datasets

    saved = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf_datasets_cache")
    yield
    datasets.config.HF_DATASETS_CACHE = saved


@pytest.fixture(scope="session")
def hub_tasks():
    """Every task's repository on the local hub, laid out as the real hub has it (tests/helpers/hub_layouts.py),
    holding the task's fixture rows."""
    from hub_layouts import task_repositories
    from task_helpers import raw_rows

    from w2s.data.tasks import HF_TASKS

    for (repo_id, revision), files in task_repositories(
        {task: raw_rows(task) for task in HF_TASKS}
    ).items():
        HUB.add(repo_id, files, revision)
    return HUB


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    """A Hugging Face cache of the test's own, so that what it finds fetched it fetched itself."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))
    return tmp_path / "hub_cache"


@pytest.fixture(scope="session")
def hub_models(tmp_path_factory):
    """`w2s-test/tiny-lm` on the local hub: a tiny GPT-2 on main (seed 0) and another on branch step1 (seed 1), as a
    pretraining run's checkpoints are branches (Pythia's step143000); main also holds weights in formats w2s never
    loads, as hub repositories do, and branch `pickled` holds nothing else. Returns (hub, {revision: folder})."""
    root = tmp_path_factory.mktemp("hub_models")
    folders = {
        revision: build_model(
            root / revision,
            "gpt2",
            hidden_size=8,
            num_layers=1,
            num_heads=2,
            max_position=64,
            seed=seed,
        )
        for revision, seed in (("main", 0), ("step1", 1))
    }
    for revision, folder in folders.items():
        files = {
            p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()
        }
        if revision == "main":
            files |= {
                "pytorch_model.bin": b"a pickle w2s never loads",
                "flax_model.msgpack": b"other weights",
            }
        HUB.add("w2s-test/tiny-lm", files, revision, kind="model")
    # as Pythia's step branches are: the weights as a pickle only (of step1's tensors, at branch step1-pickled; with
    # an object whose unpickling would run a command, at branch payload; not a pickle at all, at branch pickled)
    HUB.add(
        "w2s-test/tiny-lm",
        {"config.json": folders["main"] / "config.json", "pytorch_model.bin": b"pickle"},
        "pickled",
        kind="model",
    )
    step1 = load_file(folders["step1"] / "model.safetensors")
    others = {
        p.name: p for p in folders["step1"].iterdir() if p.is_file() and p.suffix != ".safetensors"
    }
    for branch, state in (
        ("step1-pickled", step1),
        ("payload", {**step1, "payload": Payload(root / "PAYLOAD_RAN")}),
    ):
        buffer = io.BytesIO()
        torch.save(state, buffer)
        HUB.add(
            "w2s-test/tiny-lm",
            {**others, "pytorch_model.bin": buffer.getvalue()},
            branch,
            kind="model",
        )
    return HUB, folders


@dataclass
class Payload:
    """Unpickling this creates `marker`: loading it must never happen."""

    marker: Path

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# A small chess world (real positions, Stockfish's answers): the chess tests' puzzles and pretraining games.
CHESS_WORLD = {"type": "chess", "n_entities": 30, "seed": 4, "corpus_lines": 60, "depth": 6}


@pytest.fixture(scope="session")
def chess_world_dir(tmp_path_factory):
    from w2s.data.world import generate_world

    path = tmp_path_factory.mktemp("chess") / "world"
    generate_world(CHESS_WORLD, path)
    return path


@pytest.fixture(scope="session")
def lichess_hub(chess_world_dir):
    """EleutherAI/lichess-puzzles and Lichess/chess-puzzles on the local hub at the commits w2s pins, holding the
    chess world's puzzles (tests/helpers/lichess_hub.py). Returns (the puzzles' rows, the ratings' rows)."""
    from lichess_hub import add_lichess_repositories

    return add_lichess_repositories(HUB, chess_world_dir)


# The longest modules, longest first (seconds of one process's time in a whole run at 2572afa, 2 cores): they start
# the run, so that none begins late and ends it on one process while the others wait.
LONGEST_MODULES = (
    "test_slurm",  # 254
    "test_resume",  # 243
    "test_deepspeed",  # 168
    "test_pipeline",  # 129
    "test_chains",  # 120
    "test_reliability",  # 114
    "test_offline_cluster",  # 102
    "test_plan",  # 95
    "test_bad_input",  # 93
)


def pytest_configure(config):
    # pytest-xdist's --dist loadfile would otherwise hand out modules by their number of tests, most first, which
    # puts the few-test, minutes-long modules (Slurm, the offline cluster) at the run's end
    config.option.loadscopereorder = False


def pytest_collection_modifyitems(items):
    """Modules in the order the processes (pytest -n 2 --dist loadfile) should take them: the longest first, then
    the other modules with workflow tests (seconds to minutes each), then the rest; each module's own order kept."""
    workflow = {item.module.__name__ for item in items if item.get_closest_marker("workflow")}

    def rank(item) -> tuple[int, int]:
        name = item.module.__name__
        if name in LONGEST_MODULES:
            return 0, LONGEST_MODULES.index(name)
        return (1 if name in workflow else 2), 0

    items.sort(key=rank)
