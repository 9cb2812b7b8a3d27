"""The feature sandbox: weak-to-strong generalization with every quantity a knob, in seconds, to write down what a
world should show before pretraining one (`python bench/sandbox.py`, docs/sandbox.md).

Each item has a truth t and a salient heuristic h that agrees with t except on a share `eps` of the items. The strong
model's representation of an item is phi = a*s(t)*u + b*s(h)*v + sigma*noise (s(y) = 2y - 1; u, v orthonormal among
`dims` directions): `a` is how clearly it encodes the truth, `b` the heuristic. A weak supervisor answers with the
heuristic except on a share `q` of the items where heuristic and truth disagree, which it knows; then it flips a
share `flip` of all its answers at random. Which items it knows or flips is independent of phi: its heuristic
errors are systematic (they follow a feature), its flips are noise. The ceiling and the student are the same linear
probe (logistic regression) on phi, trained on the truth and on the weak labels; each is scored against the truth.

Where sigma -> 0 (and a, b > 0) the student's best fit to the weak labels answers, on each kind of item (heuristic
and truth agreeing or not), what the weak labels say there more often than not: it removes the flips and keeps the
heuristic's errors unless the supervisor knows most of those items (`limit_pgr`). Without flips, PGR -> 1 for
q > 1/2 and -q / (1 - q) below (it imitates the heuristic's errors and loses the items its supervisor knew); flips
lower the weak model, not the student, and raise PGR towards 1 - the saturated worlds' case. Noise, and a heuristic
encoded more clearly than the truth (b > a), move it between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from w2s.errors import W2SError


@dataclass(frozen=True)
class Sandbox:
    a: float = 1.0  # how clearly the strong model encodes the truth
    b: float = 1.0  # how clearly it encodes the heuristic
    eps: float = 0.3  # share of items where heuristic and truth disagree
    q: float = 0.3  # share of those the weak supervisor knows
    flip: float = 0.0  # share of its answers it flips at random
    sigma: float = 0.5  # noise per direction
    dims: int = 16
    n_train: int = 2000
    n_test: int = 4000
    l2: float = 1e-3  # the probe's ridge, per training item

    def __post_init__(self):
        for name in ("eps", "q", "flip"):
            if not 0 <= getattr(self, name) <= 1:
                raise W2SError(f"sandbox: {name} must be in [0, 1], got {getattr(self, name)}")
        if self.eps == 0:
            raise W2SError("sandbox: eps 0 leaves no gap (the weak supervisor is always right)")
        if self.q == 1:
            raise W2SError("sandbox: q 1 leaves no gap (the weak supervisor knows every item)")
        if (
            min(self.a, self.b, self.sigma) < 0
            or self.dims < 2
            or min(self.n_train, self.n_test) < 2
        ):
            raise W2SError(
                "sandbox: a, b and sigma must be >= 0, dims >= 2, n_train and n_test >= 2"
            )


def draw(world: Sandbox, n: int, rng: np.random.Generator):
    """n items: (features, truth, the weak supervisor's labels)."""
    truth = rng.integers(0, 2, n)
    disagree = rng.random(n) < world.eps
    heuristic = np.where(disagree, 1 - truth, truth)
    knows = disagree & (rng.random(n) < world.q)
    flipped = rng.random(n) < world.flip
    weak = np.where(knows, truth, heuristic) ^ flipped
    features = world.sigma * rng.standard_normal((n, world.dims))
    features[:, 0] += world.a * (2 * truth - 1)
    features[:, 1] += world.b * (2 * heuristic - 1)
    return features, truth, weak


def fit_probe(features: np.ndarray, labels: np.ndarray, l2: float, steps: int = 30) -> np.ndarray:
    """Logistic regression with a bias and a ridge of `l2` per item, by Newton's method; the weights."""
    x = np.hstack([features, np.ones((len(features), 1))])
    w = np.zeros(x.shape[1])
    ridge = l2 * len(x) * np.eye(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - labels) + ridge @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def predict(w: np.ndarray, features: np.ndarray) -> np.ndarray:
    return (features @ w[:-1] + w[-1] > 0).astype(int)


def run(world: Sandbox, seed: int) -> dict:
    """One seed: the accuracies against the truth, PGR, and the student's imitation of its supervisor's errors."""
    rng = np.random.default_rng(seed)
    (train, train_truth, train_weak), (test, truth, weak_test) = (
        draw(world, world.n_train, rng),
        draw(world, world.n_test, rng),
    )
    ceiling = predict(fit_probe(train, train_truth, world.l2), test)
    student = predict(fit_probe(train, train_weak, world.l2), test)
    accuracy = {
        "weak": float((weak_test == truth).mean()),
        "ceiling": float((ceiling == truth).mean()),
        "student": float((student == truth).mean()),
    }
    wrong = weak_test != truth
    return accuracy | {
        "pgr": pgr(accuracy),
        "imitation": float((student[wrong] == weak_test[wrong]).mean()) if wrong.any() else None,
    }


def pgr(accuracy: dict) -> float | None:
    gap = accuracy["ceiling"] - accuracy["weak"]
    return (accuracy["student"] - accuracy["weak"]) / gap if gap > 0 else None


def limit_pgr(world: Sandbox) -> float | None:
    """PGR as sigma -> 0, where the ceiling is right everywhere and the student answers, on each kind of item it can
    tell apart (heuristic and truth agreeing or not; where b = 0 it cannot, and all items are one kind), what the
    weak labels say there more often than not. None at a tie or without a gap (a = 0: the ceiling is blind too)."""
    kept = 1 - world.flip  # a label survives the flips

    def right(
        true_share: float,
    ) -> float:  # the weak labels' share of the truth on items it gets right that often
        return true_share * kept + (1 - true_share) * world.flip

    weak = (1 - world.eps) * right(1) + world.eps * right(world.q)
    kinds = [(1 - world.eps, right(1)), (world.eps, right(world.q))] if world.b > 0 else [(1, weak)]
    if world.a == 0 or weak >= 1 or any(share == 0.5 for _, share in kinds):
        return None
    student = sum(size for size, share in kinds if share > 0.5)
    return (student - weak) / (1 - weak)
