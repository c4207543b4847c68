"""BEAR summaries: per-episode results aggregated overall, by skill and by split."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..bear_skills import bear_table
from ..chains import skill_chains


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return float(sum(vals) / len(vals)) if vals else 0.0


def _overall(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    steps = [s for r in results for s in (r.get("steps") or [])]
    return {
        "episode_success_rate": _mean(1.0 if r.get("episode_success") else 0.0 for r in results),
        "step_accuracy": _mean(1.0 if s.get("correct") else 0.0 for s in steps),
        "mean_step_score": _mean(float(s.get("score", 0.0) or 0.0) for s in steps),
        "n": len(results),
        "n_steps": len(steps),
    }


def summarize_bear(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate per-episode results (``info["episode_result"]`` of ``BearLongHorizon-v0``:
    ``{"episode_id", "split", "episode_success", "steps": [{"skill", "correct", "score"}]}``).

    Returns ``{"overall": {"episode_success_rate", "step_accuracy", "mean_step_score", "n",
    "n_steps"}, "by_skill": {skill: {"accuracy", "mean_score", "n"}}, "by_split": {split:
    overall-like}}``, plus ``first_failure`` and ``conditional_accuracy``
    (:func:`~embodied_gym.rewards.chains.skill_chains`). ``n`` counts episodes (``by_skill``:
    steps). ``by_bear_skill`` is the per-skill table in BEAR's codes, Table 1's order and units
    (:func:`~embodied_gym.rewards.bear_skills.bear_table`). Malformed entries are skipped."""
    clean = [r for r in results if isinstance(r, Mapping)]
    by_skill: dict[str, list[Mapping[str, Any]]] = {}
    for r in clean:
        for s in r.get("steps") or []:
            if isinstance(s, Mapping):
                by_skill.setdefault(str(s.get("skill", "unknown")), []).append(s)
    by_split: dict[str, list[Mapping[str, Any]]] = {}
    for r in clean:
        by_split.setdefault(str(r.get("split", "unknown")), []).append(r)
    return {
        **skill_chains(clean),
        "overall": _overall(clean),
        "by_skill": {
            k: {
                "accuracy": _mean(1.0 if s.get("correct") else 0.0 for s in v),
                "mean_score": _mean(float(s.get("score", 0.0) or 0.0) for s in v),
                "n": len(v),
            }
            for k, v in sorted(by_skill.items())
        },
        "by_split": {k: _overall(v) for k, v in sorted(by_split.items())},
        "by_bear_skill": bear_table(by_skill),
    }
