"""Tests for w2s.training.losses against values worked out by hand (math.log / math.exp, not torch's cross-entropy)."""

import math

import pytest
import torch

from w2s.errors import W2SError
from w2s.training.losses import LogConfLoss, LossContext, ProductLoss, XentLoss, make_loss

LOGITS = [[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]
P1 = [0.3, 0.9, 1.0]


def softmax1(row):
    """p(class 1) of a two-class logit row."""
    a, b = row
    return math.exp(b) / (math.exp(a) + math.exp(b))


def ce(target1, q1):
    """-(t log q + (1-t) log(1-q)) for p(1) target t and prediction q."""
    total = 0.0
    if target1 > 0:
        total -= target1 * math.log(q1)
    if target1 < 1:
        total -= (1 - target1) * math.log(1 - q1)
    return total


def close(tensor, value, tol=1e-6):
    return abs(float(tensor) - value) < tol


def test_xent_soft_targets():
    q = [softmax1(r) for r in LOGITS]
    # row 0: q1 = e/(1+e); row 1: q1 = e^-1/(e^2+e^-1); row 2: q1 = 1/2
    assert abs(q[0] - math.e / (1 + math.e)) < 1e-12
    expected = (ce(0.3, q[0]) + ce(0.9, q[1]) + ce(1.0, q[2])) / 3
    # spelled out for row 2: -1 * log(1/2)
    assert abs(ce(1.0, q[2]) - math.log(2)) < 1e-12
    loss = XentLoss()(torch.tensor(LOGITS), torch.tensor(P1), LossContext())
    assert close(loss, expected)
    assert loss.ndim == 0


def product_target(weak1, student1, alpha, beta):
    pos = weak1**alpha * student1**beta
    neg = (1 - weak1) ** alpha * (1 - student1) ** beta
    return pos / (pos + neg)


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (2.0, 0.5)])
def test_product_loss(alpha, beta):
    logits, weak = [[0.0, 1.0], [1.0, 0.0]], [0.3, 0.6]
    q = [softmax1(r) for r in logits]
    targets = [product_target(w, s, alpha, beta) for w, s in zip(weak, q)]
    expected = sum(ce(t, s) for t, s in zip(targets, q)) / 2
    loss = ProductLoss(alpha=alpha, beta=beta)(
        torch.tensor(logits), torch.tensor(weak), LossContext()
    )
    assert close(loss, expected)
    # The product target is not the weak label: the loss differs from plain cross-entropy to the weak labels.
    assert not close(loss, sum(ce(w, s) for w, s in zip(weak, q)) / 2, tol=1e-3)


def test_product_loss_alpha_one_beta_one_by_hand():
    # student q1 = e/(1+e) = 0.7311, weak 0.3: target = 0.3 q1 / (0.3 q1 + 0.7 (1 - q1))
    q1 = math.e / (1 + math.e)
    t = 0.3 * q1 / (0.3 * q1 + 0.7 * (1 - q1))
    assert abs(t - 0.3 * math.e / (0.3 * math.e + 0.7)) < 1e-12
    expected = -(t * math.log(q1) + (1 - t) * math.log(1 - q1))
    loss = ProductLoss()(torch.tensor([[0.0, 1.0]]), torch.tensor([0.3]), LossContext())
    assert close(loss, expected)


def test_product_loss_row_whose_products_underflow_keeps_its_gradient():
    """Weak p(1) = 1e-30 against a student sure of class 1 (p(0) = e^-60): both products are below 1e-26, yet the
    normalised target is well defined, t1 = 1e-30 / (1e-30 + e^-60) ~ 1.1e-4, and the row's gradient is q1 - t1 ~ 1."""
    logits = torch.tensor([[0.0, 60.0]], requires_grad=True)
    ProductLoss()(logits, torch.tensor([1e-30]), LossContext()).backward()
    t1 = 1e-30 / (1e-30 + math.exp(-60))
    q1 = 1 / (1 + math.exp(-60))
    assert logits.grad[0, 1].item() == pytest.approx(q1 - t1, abs=1e-6)
    assert logits.grad[0, 1].item() > 0.99


def test_product_loss_with_a_hard_weak_label_targets_it():
    logits = torch.tensor([[0.5, -0.5]], requires_grad=True)
    ProductLoss()(logits, torch.tensor([1.0]), LossContext()).backward()
    q1 = 1 / (1 + math.exp(1.0))
    assert logits.grad[0, 1].item() == pytest.approx(q1 - 1.0, abs=1e-6)  # the target is [0, 1]


def test_product_target_is_detached():
    logits = torch.tensor([[0.0, 1.0]], requires_grad=True)
    ProductLoss()(logits, torch.tensor([0.3]), LossContext()).backward()
    q1 = math.e / (1 + math.e)
    t = 0.3 * math.e / (0.3 * math.e + 0.7)
    # d CE(t, softmax(z)) / d z1 = q1 - t when t is a constant
    assert abs(logits.grad[0, 1].item() - (q1 - t)) < 1e-6
    assert abs(logits.grad[0, 0].item() + (q1 - t)) < 1e-6


def test_logconf_linear_alpha_ramp():
    loss = LogConfLoss(alpha_max=0.5, warmup_frac=0.2, alpha_schedule="linear")
    assert loss.alpha(0.0) == 0.0
    assert loss.alpha(0.1) == pytest.approx(0.25)
    assert loss.alpha(0.05) == pytest.approx(0.125)
    assert loss.alpha(0.2) == pytest.approx(0.5)
    assert loss.alpha(0.7) == 0.5
    assert loss.alpha(1.0) == 0.5
    assert LogConfLoss(alpha_max=0.75, warmup_frac=0.0, alpha_schedule="linear").alpha(0.0) == 0.75


def test_logconf_reference_alpha_schedule_is_the_default():
    """The reference code's weight: alpha_max * progress until warmup ends (at most alpha_max * warmup_frac), then
    alpha_max; this is the default, since it is what the paper's numbers were made with."""
    loss = LogConfLoss(alpha_max=0.5, warmup_frac=0.2)
    assert loss.alpha_schedule == "reference"
    assert loss.alpha(0.0) == 0.0
    assert loss.alpha(0.1) == pytest.approx(0.05)
    assert loss.alpha(0.2) == pytest.approx(
        0.1
    )  # still in warmup at its last point, as the reference's `>`
    assert loss.alpha(0.2001) == 0.5
    assert loss.alpha(1.0) == 0.5
    with pytest.raises(W2SError, match="alpha_schedule"):
        make_loss("lc", {"type": "logconf", "alpha_schedule": "cosine"})


def test_logconf_batch_threshold():
    student = torch.tensor([0.1, 0.4, 0.6, 0.9])
    weak = torch.tensor([0.0, 0.0, 0.2, 0.8])  # mean 0.25
    threshold = LogConfLoss.batch_threshold(student, weak)
    # the 0.75 quantile of 4 sorted values: position 0.75 * 3 = 2.25 -> 0.6 + 0.25 * (0.9 - 0.6) = 0.675
    assert threshold == pytest.approx(0.675)
    assert int((student > threshold).sum()) == 1
    # a weak mean of 0.5 puts half the batch above the threshold
    half = LogConfLoss.batch_threshold(student, torch.tensor([0.5, 0.5, 0.5, 0.5]))
    assert half == pytest.approx(0.5)
    assert int((student > half).sum()) == 2


def test_logconf_value():
    logits = [[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]
    weak = [0.3, 0.6, 0.8, 0.1]
    q = [softmax1(r) for r in logits]  # 0.731, 0.269, 0.881, 0.5
    lossfn = LogConfLoss(alpha_max=0.5, warmup_frac=0.2, alpha_schedule="linear")
    progress = 0.1  # halfway through warmup: a = 0.25
    a = 0.5 * (0.1 / 0.2)
    threshold = LogConfLoss.batch_threshold(torch.tensor(q), torch.tensor(weak))
    hard = [1.0 if qi > threshold else 0.0 for qi in q]
    # weak mean 0.45 -> the 0.55 quantile of sorted q (0.269, 0.5, 0.731, 0.881): position 1.65 -> 0.5 + 0.65 * 0.231
    assert threshold == pytest.approx(0.5 + 0.65 * (q[0] - 0.5))
    assert hard == [1.0, 0.0, 1.0, 0.0]
    soft_part = sum(ce(w, qi) for w, qi in zip(weak, q)) / 4
    hard_part = (-math.log(q[0]) - math.log(1 - q[1]) - math.log(q[2]) - math.log(1 - q[3])) / 4
    expected = (1 - a) * soft_part + a * hard_part
    value = lossfn(
        torch.tensor(logits),
        torch.tensor(weak),
        LossContext(progress=progress, threshold=threshold),
    )
    assert close(value, expected)
    # At progress 0 the loss is plain cross-entropy to the weak labels.
    value0 = lossfn(
        torch.tensor(logits), torch.tensor(weak), LossContext(progress=0.0, threshold=threshold)
    )
    assert close(value0, soft_part)
    assert not close(value, soft_part, tol=1e-3)


def test_make_loss_builds_configured_losses():
    assert isinstance(make_loss("xent", {}), XentLoss)
    lc = make_loss("my_logconf", {"type": "logconf", "alpha_max": 0.75, "warmup_frac": 0.1})
    assert isinstance(lc, LogConfLoss) and (lc.alpha_max, lc.warmup_frac) == (0.75, 0.1)
    pr = make_loss("prod", {"type": "product", "alpha": 2.0, "beta": 0.5})
    assert isinstance(pr, ProductLoss) and (pr.alpha, pr.beta) == (2.0, 0.5)


def test_make_loss_errors_name_the_entry():
    with pytest.raises(W2SError, match=r"losses\.mine\.type.*'focal'"):
        make_loss("mine", {"type": "focal"})
    with pytest.raises(W2SError, match=r"losses\.unknown_name"):
        make_loss("unknown_name", {})  # no type: the name is taken as the type
    with pytest.raises(W2SError, match=r"losses\.lc:.*alpha_mx"):
        make_loss("lc", {"type": "logconf", "alpha_mx": 0.5})
    with pytest.raises(W2SError, match=r"losses\.x:"):
        make_loss("x", {"type": "xent", "alpha": 1.0})


def test_logconf_on_generated_answers_weighs_the_taught_answer_against_the_students_own():
    """On answers (w2s.models.answerer's two-class view, the taught answer's p as p(1), target 1), the own term is the
    cross-entropy to the student's own argmax tokens, whose mean log-probability the context carries."""
    p_taught = torch.tensor([0.5, 0.9])
    logits = torch.log(torch.stack([1 - p_taught, p_taught], dim=-1)).requires_grad_()
    own = torch.tensor([-0.2, -0.1], requires_grad=True)
    loss_fn = LogConfLoss(alpha_max=0.4, warmup_frac=0.0)
    value = loss_fn(logits, torch.ones(2), LossContext(progress=0.5, own_logprobs=own))
    taught = (-math.log(0.5) - math.log(0.9)) / 2
    assert close(value.detach(), 0.6 * taught + 0.4 * (0.2 + 0.1) / 2)
    value.backward()
    assert own.grad is not None and torch.allclose(own.grad, torch.tensor([-0.2, -0.2]))
