"""Tests for w2s.training.loop (accumulation, learning, determinism, schedule, trajectory) and w2s.records.metrics."""

import copy
import json
import math

import numpy as np
import pytest
import torch
from snakemake_helpers import train_settings

from w2s.models.classifier import Classifier, load_tokenizer
from w2s.models.tokens import encode
from w2s.records.metrics import accuracy, auroc, classification_metrics
from w2s.training import loop
from w2s.training.loop import train
from w2s.training.losses import LogConfLoss, ProductLoss, XentLoss
from w2s.training.predict import predict_p1
from w2s.training.resume import rng_state
from w2s.training.settings import lr_factor


def settings(**overrides):
    base = dict(
        lr=1e-3, batch_size=8, minibatch_size=8, epochs=2, seed=0, log_every=1000, autocast="off"
    )
    return train_settings(**{**base, **overrides})


@pytest.fixture(scope="module")
def base(tiny_gpt2):
    """A loaded classifier with a random head (so every parameter gets gradient from the first step)."""
    torch.manual_seed(0)
    return Classifier.load(str(tiny_gpt2), head_init="random")


@pytest.fixture(scope="module")
def tokenizer(tiny_gpt2):
    return load_tokenizer(str(tiny_gpt2))


@pytest.fixture(scope="module")
def soft_data(tokenizer):
    """20 texts of varied length with soft targets: 2 full batches of 8 and a last batch of 4."""
    rng = np.random.default_rng(0)
    words = ["good", "bad", "fine", "awful", "ok", "great", "meh"]
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 6))) for _ in range(20)]
    ids, _ = encode(texts, tokenizer, 64)
    targets = torch.tensor(rng.uniform(0, 1, size=20), dtype=torch.float32)
    return ids, targets


def params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a)


def trained(base_model, ids, targets, loss, pad_id, **overrides):
    model = copy.deepcopy(base_model)
    train(model, ids, targets, loss, settings(**overrides), pad_id)
    return params(model)


@pytest.mark.kernel_sensitive
@pytest.mark.parametrize(
    "loss",
    [XentLoss(), LogConfLoss(alpha_max=0.5, warmup_frac=0.25), ProductLoss()],
    ids=["xent", "logconf", "product"],
)
def test_gradient_accumulation_matches_full_batch(base, tokenizer, soft_data, loss):
    ids, targets = soft_data
    start = params(base)
    full = trained(base, ids, targets, loss, tokenizer.pad_token_id, batch_size=8, minibatch_size=8)
    for minibatch in (
        2,
        3,
    ):  # 3 gives unequal minibatches (3, 3, 2), and (3, 1) for the last batch of 4
        accumulated = trained(
            base, ids, targets, loss, tokenizer.pad_token_id, batch_size=8, minibatch_size=minibatch
        )
        assert max_diff(full, accumulated) < 1e-5, (minibatch, max_diff(full, accumulated))
    assert max_diff(full, start) > 1e-3  # training moved the weights far beyond the tolerance


def test_logconf_differs_from_xent(base, tokenizer, soft_data):
    """Sanity for the test above: the confidence term changes training, so its equivalence check is not vacuous."""
    ids, targets = soft_data
    xent = trained(base, ids, targets, XentLoss(), tokenizer.pad_token_id)
    logconf = trained(
        base, ids, targets, LogConfLoss(alpha_max=0.5, warmup_frac=0.25), tokenizer.pad_token_id
    )
    assert max_diff(xent, logconf) > 1e-4


@pytest.fixture(scope="module")
def dropout_base(base):
    """The same classifier with the dropout of hub GPT-2 checkpoints (0.1 on embeddings, attention, residuals)."""
    model = copy.deepcopy(base)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.1
    return model


@pytest.mark.kernel_sensitive
def test_dropout_is_off_by_default_so_accumulation_gives_the_full_batch_update(
    dropout_base, tokenizer, soft_data
):
    """The reference trains with dropout off; then a logconf step accumulated over minibatches is the full batch's
    step, dropout in the model or not. With the model's own dropout on, the two differ (so the check is not vacuous)."""
    ids, targets = soft_data
    loss, pad = LogConfLoss(alpha_max=0.5, warmup_frac=0.0), tokenizer.pad_token_id
    full = trained(dropout_base, ids, targets, loss, pad, batch_size=8, minibatch_size=8)
    accumulated = trained(dropout_base, ids, targets, loss, pad, batch_size=8, minibatch_size=4)
    assert max_diff(full, accumulated) < 1e-5
    assert max_diff(full, params(dropout_base)) > 1e-3
    with_dropout = trained(
        dropout_base, ids, targets, loss, pad, batch_size=8, minibatch_size=8, dropout="model"
    )
    assert max_diff(full, with_dropout) > 1e-4


class RecordingLogConf(LogConfLoss):
    """logconf that remembers, per call, the step's threshold and the student's p(1) the loss was computed on."""

    def __init__(self):
        super().__init__(alpha_max=0.5, warmup_frac=0.0)
        self.calls = []

    def __call__(self, logits, p1, ctx):
        self.calls.append((ctx, torch.softmax(logits.detach().float(), -1)[:, 1], p1))
        return super().__call__(logits, p1, ctx)


def test_with_model_dropout_the_threshold_pass_sees_the_gradient_pass_masks(
    dropout_base, tokenizer, soft_data
):
    """Under accumulation the whole-batch threshold comes from an extra no-grad pass; with dropout on, that pass
    must draw the same dropout masks as the gradient passes, or the threshold belongs to other predictions."""
    ids, targets = soft_data
    loss = RecordingLogConf()
    model = copy.deepcopy(dropout_base)
    train(
        model,
        ids,
        targets,
        loss,
        settings(batch_size=8, minibatch_size=4, dropout="model"),
        tokenizer.pad_token_id,
    )
    steps: dict[int, list] = {}
    for ctx, student, weak in loss.calls:
        steps.setdefault(id(ctx), []).append((ctx.threshold, student, weak))
    # minibatches of at most 4 (grouped by length: a batch may take more than batch / minibatch of them)
    accumulated = [calls for calls in steps.values() if len(calls) >= 2]
    assert (
        sum(sum(len(c[1]) for c in calls) == 8 for calls in accumulated) == 4
    )  # 2 epochs x 2 full batches
    for calls in accumulated:
        student = torch.cat([c[1] for c in calls])
        weak = torch.cat([c[2] for c in calls])
        assert len({c[0] for c in calls}) == 1
        assert calls[0][0] == pytest.approx(LogConfLoss.batch_threshold(student, weak), abs=1e-6)


@pytest.mark.parametrize(("dropout", "reads"), [("off", False), ("model", True)])
def test_the_random_state_is_read_only_where_dropout_draws_from_it(
    dropout_base, tokenizer, soft_data, monkeypatch, dropout, reads
):
    """Replaying the random state is for dropout's masks; in eval mode the loop reads none (on a GPU, reading it
    touches every device, once a pass)."""
    read = []
    monkeypatch.setattr(loop, "rng_state", lambda: read.append(1) or rng_state())
    ids, targets = soft_data
    settings_ = settings(batch_size=8, minibatch_size=4, dropout=dropout)
    train(
        copy.deepcopy(dropout_base),
        ids,
        targets,
        RecordingLogConf(),
        settings_,
        tokenizer.pad_token_id,
    )
    assert bool(read) == reads


@pytest.mark.kernel_sensitive
def test_determinism_and_seed(base, tokenizer, soft_data):
    ids, targets = soft_data
    loss = XentLoss()
    first = trained(base, ids, targets, loss, tokenizer.pad_token_id, seed=5, minibatch_size=4)
    second = trained(base, ids, targets, loss, tokenizer.pad_token_id, seed=5, minibatch_size=4)
    other = trained(base, ids, targets, loss, tokenizer.pad_token_id, seed=6, minibatch_size=4)
    assert all(
        torch.equal(first[k], second[k]) for k in first
    )  # the same kernels on the same batches
    assert max_diff(first, other) > 1e-5


def easy_task(tokenizer, n):
    texts, labels = [], []
    for i in range(n):
        k = 2 + i % 4
        texts += [" ".join(["a"] * k), " ".join(["b"] * k)]
        labels += [1, 0]
    ids, _ = encode(texts, tokenizer, 32)
    return ids, np.array(labels)


def test_training_learns_easy_task_and_logs_trajectory(tiny_gpt2, tokenizer, tmp_path):
    model = Classifier.load(str(tiny_gpt2))  # zero head: starts at p = 0.5, loss log 2
    train_ids, train_labels = easy_task(tokenizer, 16)
    test_ids, test_labels = easy_task(tokenizer, 8)
    calls = []

    def evaluate(m):
        assert not m.training  # evaluated in eval mode
        p1 = predict_p1(m, test_ids, tokenizer.pad_token_id, batch_size=5, autocast="off")
        calls.append(p1)
        return {
            f"test_{k}": v for k, v in classification_metrics(p1, test_labels).items() if k != "n"
        }

    trajectory = tmp_path / "trajectory.jsonl"
    s = settings(
        lr=1e-2,
        epochs=4,
        batch_size=8,
        minibatch_size=4,
        eval_every=3,
        log_every=1,
        warmup_frac=0.1,
    )
    summary = train(
        model,
        train_ids,
        torch.tensor(train_labels, dtype=torch.float32),
        XentLoss(),
        s,
        tokenizer.pad_token_id,
        evaluate,
        trajectory,
    )
    assert not model.training  # dropout off: trained (and left) in eval mode, as the reference

    total = 4 * math.ceil(32 / 8)
    assert summary["steps"] == total
    assert summary["test_accuracy"] == 1.0 and summary["test_auroc"] == 1.0

    entries = [json.loads(line) for line in trajectory.read_text().splitlines()]
    steps = [e for e in entries if "loss" in e]
    assert [e["step"] for e in steps] == list(range(1, total + 1))  # log_every = 1
    assert steps[0]["loss"] == pytest.approx(
        math.log(2), abs=1e-6
    )  # zero head: the first batch's loss is log 2
    assert steps[-1]["loss"] < 0.2 * steps[0]["loss"]

    evals = [e for e in entries if "test_accuracy" in e]
    # every eval_every steps before the end, then one final evaluation at the last step
    assert [e["step"] for e in evals] == [3, 6, 9, 12, 15, 16]
    assert evals[-1]["epoch"] == 4.0 and "loss" not in evals[-1]
    assert all(set(e) >= {"test_accuracy", "test_auroc"} for e in evals)
    assert evals[-1]["test_accuracy"] == 1.0
    assert len(calls) == len(evals)
    # the logged lr follows the schedule: the last step's lr is lr * lr_factor(total) = 0
    assert steps[-1]["lr"] == pytest.approx(0.0, abs=1e-12)
    assert steps[0]["lr"] == pytest.approx(1e-2 * lr_factor(1, total, s))


def test_no_eval_entries_without_eval_every(tiny_gpt2, tokenizer, tmp_path):
    model = Classifier.load(str(tiny_gpt2))
    ids, labels = easy_task(tokenizer, 4)
    trajectory = tmp_path / "t.jsonl"
    train(
        model,
        ids,
        torch.tensor(labels, dtype=torch.float32),
        XentLoss(),
        settings(epochs=1, batch_size=4, minibatch_size=4, log_every=1),
        tokenizer.pad_token_id,
        lambda m: {"test_accuracy": 0.5},
        trajectory,
    )
    entries = [json.loads(line) for line in trajectory.read_text().splitlines()]
    assert [e["step"] for e in entries] == [1, 2, 2]  # two logged steps, then the final evaluation
    assert ["test_accuracy" in e for e in entries] == [False, False, True]


def test_lr_factor_warmup_then_cosine():
    s = train_settings(lr=1.0, warmup_frac=0.2, schedule="cosine")
    total = 10  # 2 warmup steps
    assert lr_factor(0, total, s) == pytest.approx(0.5)
    assert lr_factor(1, total, s) == pytest.approx(1.0)
    assert lr_factor(2, total, s) == pytest.approx(1.0)  # cosine starts at its top
    assert lr_factor(6, total, s) == pytest.approx(0.5)  # halfway through the 8 cosine steps
    assert lr_factor(9, total, s) == pytest.approx(0.5 * (1 + math.cos(math.pi * 7 / 8)))
    assert lr_factor(10, total, s) == pytest.approx(0.0, abs=1e-12)
    values = [lr_factor(i, total, s) for i in range(2, 11)]
    assert all(a > b for a, b in zip(values, values[1:]))  # strictly decreasing after warmup


def test_lr_factor_no_warmup_and_constant():
    cosine = train_settings(lr=1.0)
    assert lr_factor(0, 4, cosine) == 1.0
    assert lr_factor(2, 4, cosine) == pytest.approx(0.5)
    constant = train_settings(lr=1.0, schedule="constant")
    assert [lr_factor(i, 7, constant) for i in range(8)] == [1.0] * 8
    warm_constant = train_settings(lr=1.0, schedule="constant", warmup_frac=0.5)
    assert [lr_factor(i, 8, warm_constant) for i in range(8)] == pytest.approx(
        [0.25, 0.5, 0.75, 1, 1, 1, 1, 1]
    )


def test_auroc_hand_computed():
    # positives 0.4 and 0.8 against negatives 0.1 and 0.4: (1 + 0.5 + 1 + 1) / 4
    assert auroc(np.array([0.1, 0.4, 0.4, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.875)
    assert auroc(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 0, 1, 1])) == 1.0
    assert auroc(np.array([0.1, 0.2, 0.3, 0.4]), np.array([1, 1, 0, 0])) == 0.0
    assert auroc(np.array([0.5, 0.5, 0.5]), np.array([0, 1, 1])) == 0.5
    # 3 positives vs 2 negatives, unsorted input, a tie across classes:
    # pos 0.9 beats both; pos 0.3 beats 0.2, ties 0.3; pos 0.1 beats none -> (2 + 1.5 + 0) / 6
    assert auroc(np.array([0.3, 0.9, 0.2, 0.1, 0.3]), np.array([1, 1, 0, 1, 0])) == pytest.approx(
        3.5 / 6
    )
    assert math.isnan(auroc(np.array([0.2, 0.7]), np.array([1, 1])))


def test_an_undefined_auroc_is_null_in_strict_json(tmp_path):
    """A test split of one class has no AUROC: metrics.json says null, which strict parsers (JavaScript's, Go's,
    jq 1.6) read, where Python's default would write a bare NaN they refuse."""
    import polars as pl

    from w2s.records.predictions import write_scored

    table = pl.DataFrame(
        {
            "id": ["a", "b"],
            "text": ["x", "y"],
            "label": [1, 1],
            "soft_label": [0.2, 0.7],
            "hard_label": [0, 1],
            "correct": [False, True],
            "group": ["all", "all"],
        }
    )
    out = {"predictions": tmp_path / "p.parquet", "metrics": tmp_path / "metrics.json"}
    metrics = write_scored(table, out, {"role": "weak"})
    assert math.isnan(metrics["auroc"])

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    written = json.loads((tmp_path / "metrics.json").read_text(), parse_constant=refuse)
    assert written["auroc"] is None and written["accuracy"] == 0.5


def test_accuracy_and_metrics():
    p1 = np.array([0.9, 0.5, 0.2, 0.51, 0.49])
    labels = np.array([1, 1, 0, 0, 0])
    # predictions: 1, 0 (0.5 is not > 0.5), 0, 1, 0 -> correct: yes, no, yes, no, yes
    assert accuracy(p1, labels) == pytest.approx(0.6)
    m = classification_metrics(p1, labels)
    assert m["accuracy"] == pytest.approx(0.6) and m["n"] == 5
    # pos 0.9, 0.5 vs neg 0.2, 0.51, 0.49: 0.9 beats 3; 0.5 beats 0.2 and 0.49 -> 5 / 6
    assert m["auroc"] == pytest.approx(5 / 6)


class Interrupted(Exception):
    pass


def test_resume_after_interruption_matches_uninterrupted_run(base, tokenizer, soft_data, tmp_path):
    """A run stopped mid-training and restarted from its saved state ends with the uninterrupted run's weights."""
    ids, targets = soft_data
    loss = LogConfLoss(
        alpha_max=0.5, warmup_frac=0.25
    )  # progress-dependent, so a wrong resumed step would show
    run = dict(
        epochs=3, batch_size=4, minibatch_size=2, checkpoint_every=2, eval_every=5
    )  # 15 steps
    reference = copy.deepcopy(base)
    train(
        reference,
        ids,
        targets,
        loss,
        settings(**run),
        tokenizer.pad_token_id,
        evaluate=lambda m: {},
    )

    def stop_at_step_10(model):
        raise Interrupted  # evaluations run at steps 5 and 10; the step-5 one is let through below

    calls = []
    interrupted = copy.deepcopy(base)
    with pytest.raises(Interrupted):
        train(
            interrupted,
            ids,
            targets,
            loss,
            settings(**run),
            tokenizer.pad_token_id,
            evaluate=lambda m: calls.append(1) or ({} if len(calls) < 2 else stop_at_step_10(m)),
            trajectory_path=tmp_path / "trajectory.jsonl",
            resume_dir=tmp_path / "resume",
            fingerprint="a",
        )
    assert (tmp_path / "resume/latest").read_text().strip() == "step8"

    resumed = copy.deepcopy(base)  # a fresh process would start from the base weights too
    summary = train(
        resumed,
        ids,
        targets,
        loss,
        settings(**run),
        tokenizer.pad_token_id,
        evaluate=lambda m: {},
        trajectory_path=tmp_path / "trajectory.jsonl",
        resume_dir=tmp_path / "resume",
        fingerprint="a",
    )
    assert summary["steps"] == 15
    assert max_diff(params(reference), params(resumed)) == 0.0
    assert not (tmp_path / "resume").exists()  # removed once training finished
    steps = [
        json.loads(line)["step"]
        for line in (tmp_path / "trajectory.jsonl").read_text().splitlines()
    ]
    assert (
        steps == sorted(steps) and steps.count(5) == 1
    )  # the entries before step 8 are kept, not repeated


STATE_RUN = dict(epochs=2, batch_size=4, minibatch_size=4, checkpoint_every=2, eval_every=3)


def leave_state(base, tokenizer, soft_data, resume_dir, fingerprint: str) -> None:
    """A run interrupted at its first evaluation (step 3), leaving its resumable state of step 2 in `resume_dir`."""

    def interrupt(model):
        raise Interrupted

    with pytest.raises(Interrupted):
        train(
            copy.deepcopy(base),
            *soft_data,
            XentLoss(),
            settings(**STATE_RUN),
            tokenizer.pad_token_id,
            evaluate=interrupt,
            resume_dir=resume_dir,
            fingerprint=fingerprint,
        )


def assert_trains_from_scratch(base, tokenizer, soft_data, resume_dir, fingerprint: str) -> None:
    """Training with the state in `resume_dir` ends where a run that never saw it ends."""
    fresh = copy.deepcopy(base)
    train(
        fresh,
        *soft_data,
        XentLoss(),
        settings(**STATE_RUN),
        tokenizer.pad_token_id,
        resume_dir=resume_dir,
        fingerprint=fingerprint,
    )
    reference = copy.deepcopy(base)
    train(reference, *soft_data, XentLoss(), settings(**STATE_RUN), tokenizer.pad_token_id)
    assert max_diff(params(reference), params(fresh)) == 0.0


def test_state_of_other_settings_is_not_resumed(base, tokenizer, soft_data, tmp_path):
    leave_state(base, tokenizer, soft_data, tmp_path / "resume", "old")
    assert_trains_from_scratch(base, tokenizer, soft_data, tmp_path / "resume", "new")


def test_a_state_of_an_older_format_is_discarded_with_a_message(
    base, tokenizer, soft_data, tmp_path, capsys
):
    """A state saved before states recorded their process count (no `world`) is not resumed, and is no error."""
    leave_state(base, tokenizer, soft_data, tmp_path / "resume", "same")
    shared = next((tmp_path / "resume").glob("step*/shared.json"))
    structure = json.loads(shared.read_text())
    structure["__dict__"] = [item for item in structure["__dict__"] if item[0] != "world"]
    shared.write_text(json.dumps(structure))
    capsys.readouterr()
    assert_trains_from_scratch(base, tokenizer, soft_data, tmp_path / "resume", "same")
    assert "discarding the resumable state" in capsys.readouterr().out


def test_train_agreement_is_the_agreement_of_the_batches_as_trained(
    base, tokenizer, soft_data, tmp_path
):
    """With lr 0 the model never changes, so each epoch's train_agreement (one log point per epoch of 20 examples)
    is its answers' agreement with the hard targets on all of them, and the minibatch size cannot matter."""
    ids, targets = soft_data
    model = copy.deepcopy(base)
    expected = accuracy(
        predict_p1(model, ids, tokenizer.pad_token_id, 8, "off"), (targets > 0.5).numpy()
    )
    for minibatch in (8, 3):
        trajectory = tmp_path / f"t{minibatch}.jsonl"
        train(
            model,
            ids,
            targets,
            XentLoss(),
            settings(lr=0.0, minibatch_size=minibatch, log_every=3),
            tokenizer.pad_token_id,
            trajectory_path=trajectory,
        )
        entries = [json.loads(line) for line in trajectory.read_text().splitlines()]
        assert [e["step"] for e in entries] == [3, 6]  # 3 steps (8 + 8 + 4 examples) per epoch
        assert [e["train_agreement"] for e in entries] == pytest.approx([expected, expected])
    assert 0 < expected < 1  # both kinds of answer occur: the count is not trivially right
