"""Closed-loop metrics: one episode's result record and their aggregation (pure functions).

Per episode (the ``info["episode_result"]`` a closed-loop environment returns at the end):

* ``success``: the agent called ``Finish`` while every earlier subgoal had been met in order and
  the last subgoal held (:meth:`embodied_gym.rewards.progress.SubgoalTracker.success_on_finish`).
* ``spl``: success weighted by path length, ``success * L* / max(L, L*)`` with ``L`` the
  distance the agent actually walked and ``L*`` the episode's shortest path length
  (:func:`spl`). ``L* = 0`` with success gives ``1``.
* ``gde`` / ``gde_euclidean``: goal distance error, the geodesic / Euclidean ground-plane
  distance in metres from the agent's final position to the last subgoal's target point
  (:func:`embodied_gym.rewards.progress.subgoal_target_point`); ``None`` when undefined
  (unreachable or no target point).
* ``subgoal_completion``: share of subgoals met in order by the end.
* ``coverage``: share of the navigable cells seen during the episode
  (:mod:`embodied_gym.rewards.coverage`).
* ``invalid_actions``: number of steps whose action was invalid; ``steps``: steps taken.

:func:`summarize_closed_loop` aggregates per category, split and domain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .failures import summarize_failures

RESULT_FIELDS: tuple[str, ...] = (
    "episode_id",
    "category",
    "split",
    "success",
    "spl",
    "gde",
    "gde_euclidean",
    "subgoal_completion",
    "coverage",
    "invalid_actions",
    "steps",
)
"""Fields every closed-loop episode result carries (more may be present)."""


def spl(success: bool, shortest: float, path: float) -> float:
    """Success weighted by path length: ``success * shortest / max(path, shortest)``.

    ``shortest`` must be finite and ``>= 0``; a successful episode with ``shortest == 0`` (the
    goal held at the start) scores 1."""
    if not success:
        return 0.0
    if not math.isfinite(shortest) or shortest < 0:
        raise ValueError(f"spl: shortest path length must be finite and >= 0, got {shortest!r}")
    denom = max(float(path), float(shortest))
    return 1.0 if denom <= 0 else float(shortest) / denom


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, infinite or NaN (JSON-safe)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def make_episode_result(
    *,
    episode_id: str,
    category: str,
    split: str,
    success: bool,
    path_length: float,
    shortest_path_length: float | None,
    gde: float | None,
    gde_euclidean: float | None,
    subgoal_completion: float,
    coverage: float,
    invalid_actions: int,
    steps: int,
    domain: str = "in_domain",
    **extra: Any,
) -> dict[str, Any]:
    """Build the JSON-serialisable result record of one episode (fields above, plus ``domain``,
    ``path_length``, ``shortest_path_length`` and any ``extra`` keys). SPL is computed here;
    without a finite shortest path length SPL falls back to ``float(success)``."""
    shortest = finite_or_none(shortest_path_length)
    value = spl(success, shortest, path_length) if shortest is not None else float(bool(success))
    result = {
        "episode_id": episode_id,
        "category": category,
        "split": split,
        "domain": domain,
        "success": bool(success),
        "spl": value,
        "gde": finite_or_none(gde),
        "gde_euclidean": finite_or_none(gde_euclidean),
        "subgoal_completion": float(subgoal_completion),
        "coverage": float(coverage),
        "invalid_actions": int(invalid_actions),
        "steps": int(steps),
        "path_length": float(path_length),
        "shortest_path_length": shortest,
    }
    result.update(extra)
    return result


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def aggregate(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Metrics over a group of episode results.

    ``success_rate``, ``spl``, ``subgoal_completion``, ``coverage``, ``steps``: means over
    episodes; ``gde``/``gde_euclidean``: means over episodes where they are defined (``None``
    if none); ``invalid_action_rate``: invalid actions / steps summed over the group (0 when no
    step was taken); ``n``: number of episodes."""
    n = len(results)
    total_steps = sum(int(r["steps"]) for r in results)
    total_invalid = sum(int(r["invalid_actions"]) for r in results)
    return {
        "success_rate": _mean(float(bool(r["success"])) for r in results) or 0.0,
        "spl": _mean(r["spl"] for r in results) or 0.0,
        "gde": _mean(r["gde"] for r in results),
        "gde_euclidean": _mean(r["gde_euclidean"] for r in results),
        "subgoal_completion": _mean(r["subgoal_completion"] for r in results) or 0.0,
        "coverage": _mean(r["coverage"] for r in results) or 0.0,
        "invalid_action_rate": total_invalid / total_steps if total_steps else 0.0,
        "steps": _mean(r["steps"] for r in results) or 0.0,
        "n": n,
    }


def _check(results: Sequence[Mapping[str, Any]]) -> None:
    for i, r in enumerate(results):
        if not isinstance(r, Mapping):
            raise ValueError(f"closed-loop result #{i}: expected a dict, got {type(r).__name__}")
        for key in RESULT_FIELDS:
            if key not in r:
                raise ValueError(f"closed-loop result #{i} ({r.get('episode_id', '?')!r}): field '{key}': missing")


def _group(results: Sequence[Mapping[str, Any]], key: str, default: str | None = None) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for r in results:
        groups.setdefault(str(r.get(key, default)), []).append(r)
    return {name: aggregate(items) for name, items in sorted(groups.items())}


def summarize_closed_loop(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate episode results: ``{"overall": {...}, "by_category": {cat: {...}},
    "by_split": {split: {...}}, "by_domain": {domain: {...}}}``, each ``{...}`` as
    :func:`aggregate` returns, plus ``failure_modes``
    (:func:`~embodied_gym.rewards.failures.summarize_failures`) when the results carry failure
    attributions. A result missing a field raises ``ValueError`` naming it."""
    items = list(results)
    _check(items)
    summary = {
        "overall": aggregate(items),
        "by_category": _group(items, "category"),
        "by_split": _group(items, "split"),
        "by_domain": _group(items, "domain", "in_domain"),
    }
    if any("failure_mode" in r for r in items):
        summary["failure_modes"] = summarize_failures(items)
    return summary
