"""A small conditional-logit model in numpy: one score per option, softmax over a question's
options, L2-regularised, fitted by full-batch gradient descent with Adam.

Used by the audit's fitted blind baselines (text and option structure -> answer); no
dependency beyond numpy, deterministic.
"""

from __future__ import annotations

import numpy as np


class ConditionalLogit:
    """``fit(X, y)`` with ``X``: ``questions x options x features``, ``y``: the correct option's
    index per question; ``predict(X)``: the highest-scoring option per question."""

    def __init__(self, l2: float = 1e-2, steps: int = 300, lr: float = 0.05) -> None:
        self.l2, self.steps, self.lr = float(l2), int(steps), float(lr)
        self.w: np.ndarray | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> ConditionalLogit:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        n, k, d = X.shape
        w = np.zeros(d)
        m, v = np.zeros(d), np.zeros(d)
        onehot = np.zeros((n, k))
        onehot[np.arange(n), y] = 1.0
        flat = X.reshape(n * k, d)
        for t in range(1, self.steps + 1):
            s = (flat @ w).reshape(n, k)
            s -= s.max(axis=1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(axis=1, keepdims=True)
            g = flat.T @ (p - onehot).reshape(n * k) / max(n, 1) + self.l2 * w
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            w -= self.lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        self.w = w
        return self

    def scores(self, X: np.ndarray) -> np.ndarray:
        assert self.w is not None, "fit first"
        X = np.asarray(X, dtype=np.float64)
        return X @ self.w

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.scores(X), axis=-1)
