"""Per-group rates of a run's episodes with bootstrap confidence intervals over episodes.

Every figure is a *ratio over episodes*: each episode contributes a numerator and a denominator
to a group (a closed-loop episode ``(success, 1)`` to its split / category; a BEAR episode
``(correct steps, steps)`` to its split and, per skill, ``(correct steps of that skill, steps of
that skill)``; a next-action replay episode its ``(correct, steps)`` counts). The figure is ``sum(num) / sum(den)`` and its confidence interval is the
percentile bootstrap that resamples *episodes* with replacement (steps of one episode are not
independent, so they are resampled together). The generator is seeded: the same input gives
the same intervals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .runs import episode_success, is_ood, is_stepwise, step_counts

#: bootstrap resamples per interval
N_BOOT = 2000
#: two-sided coverage of the intervals
LEVEL = 0.95


def _round(v: float | None) -> float | None:
    return None if v is None else round(float(v), 4)


@dataclass
class Estimate:
    """A rate with its bootstrap interval: ``value`` (``None`` without data), ``low`` / ``high``
    (the ``LEVEL`` percentile interval), ``n`` (episodes), ``den`` (units: episodes or steps)."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    den: float

    def to_dict(self, metric: str) -> dict[str, Any]:
        return {metric: _round(self.value), "ci95": [_round(self.low), _round(self.high)], "n": self.n}


def metric_name(results: Iterable[dict[str, Any]]) -> str:
    """``step_accuracy`` for step-scored results (BEAR, next-action replay), else ``success_rate``."""
    return "step_accuracy" if any(step_counts(r) is not None for r in results) else "success_rate"


def contributions(result: dict[str, Any], by: str) -> dict[str, tuple[float, float]]:
    """Group -> (numerator, denominator) of one episode for grouping ``by`` (``split``,
    ``category``, ``skill``, ``domain`` or any result field; ``overall`` puts it in ``"all"``).
    Step-scored results grouped by ``skill`` contribute to each skill they asked; a result
    without the field contributes to ``"unknown"``."""
    steps = [s for s in result.get("steps") or [] if isinstance(s, dict)] if is_stepwise(result) else None
    if steps is not None and by == "skill":
        out: dict[str, tuple[float, float]] = {}
        for s in steps:
            k = str(s.get("skill", "unknown"))
            num, den = out.get(k, (0.0, 0.0))
            out[k] = (num + (1.0 if s.get("correct") else 0.0), den + 1.0)
        return out
    group = "all" if by == "overall" else str(result.get(by, "unknown"))
    counts = step_counts(result)
    if counts is not None:
        return {group: counts}
    return {group: (1.0 if episode_success(result) else 0.0, 1.0)}


def _rates(num: np.ndarray, den: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(num), size=(N_BOOT, len(num)))
    d = den[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d > 0, num[idx].sum(axis=1) / np.where(d > 0, d, 1), np.nan)


def estimate(pairs: Sequence[tuple[float, float]], seed: int = 0) -> Estimate:
    """The ratio of ``(num, den)`` pairs (one per episode) with its bootstrap interval."""
    pairs = [p for p in pairs if p[1] > 0]
    if not pairs:
        return Estimate(None, None, None, 0, 0.0)
    num = np.array([p[0] for p in pairs], float)
    den = np.array([p[1] for p in pairs], float)
    boot = _rates(num, den, np.random.default_rng(seed))
    lo, hi = np.nanpercentile(boot, [50 * (1 - LEVEL), 100 - 50 * (1 - LEVEL)])
    return Estimate(float(num.sum() / den.sum()), float(lo), float(hi), len(pairs), float(den.sum()))


def difference(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]], seed: int = 0) -> Estimate:
    """rate(a) - rate(b) for two independent sets of episodes, with the interval of the
    difference (each side resampled on its own). ``n`` is the smaller side's episode count."""
    a = [p for p in a if p[1] > 0]
    b = [p for p in b if p[1] > 0]
    if not a or not b:
        return Estimate(None, None, None, 0, 0.0)
    rng = np.random.default_rng(seed)
    na, da = np.array([p[0] for p in a]), np.array([p[1] for p in a], float)
    nb, db = np.array([p[0] for p in b]), np.array([p[1] for p in b], float)
    boot = _rates(na, da, rng) - _rates(nb, db, rng)
    lo, hi = np.nanpercentile(boot, [50 * (1 - LEVEL), 100 - 50 * (1 - LEVEL)])
    value = na.sum() / da.sum() - nb.sum() / db.sum()
    return Estimate(float(value), float(lo), float(hi), min(len(a), len(b)), float(da.sum() + db.sum()))


def grouped(results: Iterable[dict[str, Any]], by: str, seed: int = 0) -> dict[str, Estimate]:
    """Group -> :class:`Estimate` over ``results`` grouped ``by`` (see :func:`contributions`)."""
    pairs: dict[str, list[tuple[float, float]]] = {}
    for r in results:
        for g, p in contributions(r, by).items():
            pairs.setdefault(g, []).append(p)
    return {g: estimate(ps, seed) for g, ps in sorted(pairs.items())}


def domain_gap(results: Iterable[dict[str, Any]], seed: int = 0) -> dict[str, Any] | None:
    """In-domain minus out-of-domain (:func:`~embodied_gym.reports.runs.is_ood`) rate with its
    bootstrap interval, or ``None`` unless both sides have episodes."""
    results = list(results)
    ind = [contributions(r, "overall")["all"] for r in results if not is_ood(r)]
    ood = [contributions(r, "overall")["all"] for r in results if is_ood(r)]
    if not ind or not ood:
        return None
    d = difference(ind, ood, seed)
    a, b = estimate(ind, seed), estimate(ood, seed)
    r = _round
    return {"in_domain": r(a.value), "ood": r(b.value), "gap": r(d.value), "ci95": [r(d.low), r(d.high)],
            "n_in_domain": a.n, "n_ood": b.n}
