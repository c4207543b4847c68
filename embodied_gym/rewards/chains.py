"""Skill-chain diagnosis of BEAR long-horizon episodes.

A long-horizon episode is an ordered chain of skill questions and counts only when every link
is right, so its weakest link decides it. From the per-episode results of
``BearLongHorizon-v0`` (``{"episode_id", "split", "episode_success", "steps": [{"skill",
"correct", "score"}]}``) :func:`skill_chains` reports:

* ``first_failure``: for each failed episode, the skill of its first wrong step; counted once per
  failed episode (``counts``), with each skill's share of the failed episodes (``share``).
* ``conditional_accuracy``: for each skill, its accuracy over the steps whose every earlier step
  in the same episode was right (``accuracy``, ``n``), next to its plain accuracy over all its
  steps (``unconditional``). A skill whose conditional accuracy is far below the others is the
  chain's bottleneck.

Failed episodes whose steps are all right (e.g. ended before every question was asked) are
counted under ``"incomplete"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def first_failure(result: Mapping[str, Any]) -> str | None:
    """The skill of the first wrong step of one episode result; ``None`` for a successful one;
    ``"incomplete"`` for a failed one without a wrong step."""
    if result.get("episode_success"):
        return None
    for step in result.get("steps") or []:
        if isinstance(step, Mapping) and not step.get("correct"):
            return str(step.get("skill", "unknown"))
    return "incomplete"


def skill_chains(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"first_failure": {"counts": {skill: n}, "share": {skill: f}, "n_failed": n},
    "conditional_accuracy": {skill: {"accuracy", "n", "unconditional", "n_all"}}}``."""
    counts: dict[str, int] = {}
    cond: dict[str, list[int]] = {}
    plain: dict[str, list[int]] = {}
    n_failed = 0
    for r in results:
        if not isinstance(r, Mapping):
            continue
        skill = first_failure(r)
        if skill is not None:
            n_failed += 1
            counts[skill] = counts.get(skill, 0) + 1
        chain_ok = True
        for step in r.get("steps") or []:
            if not isinstance(step, Mapping):
                continue
            name, ok = str(step.get("skill", "unknown")), int(bool(step.get("correct")))
            plain.setdefault(name, []).append(ok)
            if chain_ok:
                cond.setdefault(name, []).append(ok)
            chain_ok = chain_ok and bool(ok)
    conditional = {
        name: {
            "accuracy": (sum(cond[name]) / len(cond[name])) if cond.get(name) else None,
            "n": len(cond.get(name, [])),
            "unconditional": sum(values) / len(values),
            "n_all": len(values),
        }
        for name, values in sorted(plain.items())
    }
    counts = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "first_failure": {
            "counts": counts,
            "share": {k: v / n_failed for k, v in counts.items()} if n_failed else {},
            "n_failed": n_failed,
        },
        "conditional_accuracy": conditional,
    }
