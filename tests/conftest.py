"""Shared fixtures: one tiny random GPT-2 built once per session (test_model, test_train and test_run use it)."""

import pytest
import torch

from w2s.models.build import build_model

# The test machine is shared and small: keep every test on one thread.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    """A randomly initialised 1-layer gpt2 (hidden size 16, dropout 0) with the byte tokenizer, as a local dir."""
    return build_model(tmp_path_factory.mktemp("base") / "tiny_gpt2", "gpt2", hidden_size=16, num_layers=1,
                       num_heads=2, max_position=128, seed=0)


@pytest.fixture(scope="module")
def private_datasets_cache(tmp_path_factory):
    """Keep the Arrow files `datasets` builds from fixtures out of the user's cache."""
    import datasets

    saved = datasets.config.HF_DATASETS_CACHE
    datasets.config.HF_DATASETS_CACHE = tmp_path_factory.mktemp("hf_datasets_cache")
    yield
    datasets.config.HF_DATASETS_CACHE = saved
