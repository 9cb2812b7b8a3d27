"""Length-grouped minibatches: each batch is ordered by length before it is cut into minibatches, which pads less
and leaves the update (a sum over the batch's examples, with logconf's threshold over the whole batch) as it was."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch
from snakemake_helpers import planned_jobs, snakemake, tiny_config, train_settings, write_config
from tolerance import assert_predictions_close

from w2s.models.classifier import Classifier
from w2s.training.batches import Examples
from w2s.training.loop import LocalEngine, optimizer_step, train
from w2s.training.losses import LossContext, make_loss
from w2s.training.predict import predict_p1
from w2s.training.runtime import length_groups, rank_minibatches, token_passes

RUNS = (
    "weak/toy/seed0/weakling",
    "ceiling/toy/seed0/strongling",
    "student/toy/seed0/weakling/strongling/xent",
)
LOSSES = [{"type": "xent"}, {"type": "logconf", "alpha_max": 0.5, "warmup_frac": 0.2}]


def varied_ids(n: int = 48) -> list[list[int]]:
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(3, 60, (n,), generator=generator).tolist()
    return [torch.randint(3, 250, (length,), generator=generator).tolist() for length in lengths]


def padded(ids, minibatches: list[list[int]]) -> int:
    return sum(len(mb) * max(len(ids[i]) for i in mb) for mb in minibatches if mb)


def test_grouped_minibatches_cover_the_batch_and_pad_less():
    ids = varied_ids()
    examples = Examples(ids, torch.zeros(len(ids)), 0, torch.device("cpu"), False)
    batch = list(range(16))
    plain = examples.minibatches(batch, 4, 0, 1, group=False)
    grouped = examples.minibatches(batch, 4, 0, 1, group=True)
    assert plain == [batch[k : k + 4] for k in range(0, 16, 4)]
    assert [i for mb in grouped for i in mb] == examples.by_length(
        batch
    )  # every example once, shortest first
    longest = max(map(len, ids))  # a pass holds at most the tokens of 4 of the longest example
    assert all(0 < len(mb) * max(len(ids[i]) for i in mb) <= 4 * longest for mb in grouped)
    fixed_cuts = [examples.by_length(batch)[k : k + 4] for k in range(0, 16, 4)]
    real = sum(len(ids[i]) for i in batch)
    assert padded(ids, grouped) <= padded(ids, fixed_cuts)
    assert padded(ids, grouped) - real < 0.5 * (padded(ids, plain) - real)


def test_length_groups_find_the_cheapest_cuts():
    lengths = [10, 10, 11, 50, 52, 100]
    share = list(range(6))
    # no overhead: only equal lengths share a pass; a large one: passes as full as allowed (300 tokens)
    assert length_groups(share, lengths, 300, 0) == [[0, 1], [2], [3], [4], [5]]
    assert length_groups(share, lengths, 300, 1000) == [[0, 1, 2], [3, 4, 5]]
    assert length_groups(share, lengths, 300, 5) == [[0, 1, 2], [3, 4], [5]]


def test_passes_are_bounded_by_tokens_not_rows():
    """A pass holds as many short rows as the tokens of minibatch_size rows of the longest allow: 3 x 100 tokens
    take 8 rows of 10 in one pass (fixed at 3 rows they took 3), and a row longer than the budget goes alone."""
    lengths, share = [10] * 8 + [100, 400], list(range(10))
    assert length_groups(share, lengths, 300, 1000) == [list(range(8)), [8], [9]]
    assert token_passes(share, lengths, 300) == [list(range(8)), [8], [9]]
    predicted = rank_minibatches(share, 3, 0, 1, lengths, budget=300)
    assert predicted == [list(range(8)), [8], [9]]
    # the budget by default: minibatch_size rows of the batch's longest
    assert rank_minibatches(share[:9], 3, 0, 1, lengths) == [list(range(8)), [8]]


def test_every_rank_runs_as_many_minibatches():
    """Under ZeRO-3 each forward pass is collective: a rank whose share needs fewer passes gets empty ones."""
    lengths = [5, 5, 5, 5, 5, 5, 5, 9]  # rank 0's share is all of one length, rank 1's is not
    ranks = [rank_minibatches(list(range(8)), 4, rank, 2, lengths, 0) for rank in (0, 1)]
    assert ranks == [[[0, 2, 4, 6], []], [[1, 3, 5], [7]]]


class GradientRecorder(LocalEngine):
    """The plain engine, but a step records the accumulated gradients instead of applying them."""

    def step(self) -> None:
        self.gradients = {name: p.grad.clone() for name, p in self.module.named_parameters()}
        self.optimizer.zero_grad(set_to_none=True)


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize("loss", LOSSES, ids=["xent", "logconf"])
def test_a_grouped_batch_gives_the_same_gradient(tiny_gpt2, loss):
    ids = varied_ids()
    targets = torch.tensor([float(i % 3 == 0) for i in range(len(ids))])
    examples = Examples(ids, targets, 0, torch.device("cpu"), False)
    model = Classifier.load(str(tiny_gpt2), head_init="random").eval()
    settings = train_settings(lr=1e-3, batch_size=16, minibatch_size=4, autocast="off")
    batch = list(range(5, 21))
    gradients, losses = [], []
    for group in (False, True):
        engine = GradientRecorder(model, settings, 10)
        losses.append(
            optimizer_step(
                engine, examples, batch, make_loss(loss["type"], loss), 4, LossContext(0.5), group
            )[0]
        )
        gradients.append(engine.gradients)
    assert losses[1] == pytest.approx(losses[0], rel=1e-6)
    for name, gradient in gradients[0].items():
        assert gradient.abs().max() > 0 or name.endswith("c_attn.bias"), name
        # the same sum in another order: equal to float rounding, relative to the tensor's scale
        scale = gradient.abs().max().item()
        torch.testing.assert_close(gradients[1][name], gradient, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize("loss", LOSSES, ids=["xent", "logconf"])
def test_training_with_grouped_minibatches_predicts_the_same(tiny_gpt2, loss):
    ids = varied_ids()
    targets = torch.tensor([float(i % 3 == 0) for i in range(len(ids))])
    p1 = []
    for group in (False, True):
        torch.manual_seed(0)
        model = Classifier.load(str(tiny_gpt2), head_init="random")
        settings = train_settings(
            lr=1e-3,
            batch_size=16,
            minibatch_size=4,
            epochs=2,
            seed=0,
            autocast="off",
            group_by_length=group,
        )
        train(model, ids, targets, make_loss(loss["type"], loss), settings, pad_id=0)
        p1.append(predict_p1(model, ids, 0, 16, "off"))
    # Adam normalises each gradient, so a weight whose gradient is zero in theory (a key bias) moves by rounding
    # noise: compare what the model computes, to the tolerance the DeepSpeed tests use for the same reason.
    assert np.abs(p1[0] - 0.5).max() > 1e-2
    np.testing.assert_allclose(p1[1], p1[0], atol=1e-3)


# Not kernel_sensitive: its floats differ by the mechanism the two tests above check on the portable kernels in a
# second (grouped minibatches pad less), here through a whole grid, which the rerun would repeat for 45 s.
@pytest.mark.workflow
def test_a_grid_trains_to_the_same_results_with_and_without_grouping(tmp_path):
    """The tiny grid's texts vary in length (words of 2-3 characters, byte tokens); switching grouping changes
    floats only, and reruns nothing."""
    tables = {}
    for group in (True, False):
        workdir = tmp_path / str(group)
        workdir.mkdir()
        config = tiny_config(losses={"xent": {"type": "xent"}})
        config["training"]["group_by_length"] = group
        write_config(workdir, config)
        snakemake(workdir, "--cores", "2")
        tables[group] = {
            run: pl.read_parquet(workdir / "results" / run / "test_predictions.parquet")
            for run in RUNS
        }
    lengths = pl.read_parquet(tmp_path / "True/results/data/toy/seed0/strong_train.parquet")[
        "text"
    ].str.len_bytes()
    assert lengths.min() < lengths.max()
    for run in RUNS:
        undecided = assert_predictions_close(tables[False][run], tables[True][run], atol=1e-3)
        assert (
            abs(tables[False][run]["correct"].sum() - tables[True][run]["correct"].sum())
            <= undecided
        ), run
    config["training"]["group_by_length"] = True
    write_config(tmp_path / "False", config)
    assert planned_jobs(tmp_path / "False") == {}
