"""Run every registered check of a suite's family and collect the figures.

:func:`audit` takes the target episodes and the episodes to fit on; :func:`audit_ref` resolves a
``"SUITE:SPLIT"`` ref and picks another shipped split of the same suite to fit on (else it
cross-fits the target's two halves). The report is a plain dict (printed as one JSON object by
``egym audit --json``): per check and group the score, ``n``, chance, limit and verdict, the
worst figure per group, the failures, and ``passed``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..episodes.spec import Episode, load_episodes, resolve_ref
from . import bear_choice, bear_grounding, bear_info, closed_loop, fixed_endpoint  # noqa: F401  (registers the checks)
from .registry import CHECKS, AuditContext, Check, Figure, family_of


class AuditFailed(ValueError):
    """A suite scored above a limit on some blind baseline; ``report`` holds the figures."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


@dataclass
class AuditConfig:
    """Which checks run. ``checks``: names to run (default: every check of the family);
    ``render``: run checks that replay frames (visibility); ``seed``: the simulator's seed."""

    checks: Sequence[str] | None = None
    render: bool = True
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _halves(episodes: Sequence[Episode]) -> tuple[list[Episode], list[Episode]]:
    return list(episodes[0::2]), list(episodes[1::2])


def _merge(a: dict[str, Figure], b: dict[str, Figure]) -> dict[str, Figure]:
    out = {}
    for g in sorted(set(a) | set(b)):
        fa, fb = a.get(g), b.get(g)
        if fa is None or fb is None:
            out[g] = fa or fb  # type: ignore[assignment]
            continue
        n = fa.n + fb.n
        score = (fa.score * fa.n + fb.score * fb.n) / n if n else 0.0
        out[g] = Figure(score, n, fa.limit, fa.chance, "; ".join(x for x in (fa.note, fb.note) if x))
    return out


def _run(check: Check, target: Sequence[Episode], fit: Sequence[Episode] | None, ctx: AuditContext) -> dict[str, Figure]:
    if fit or not check.fits:
        return check.fn(target, fit or [], ctx)
    a, b = _halves(target)  # no other split: fit on one half, score the other, both ways
    return _merge(check.fn(a, b, ctx), check.fn(b, a, ctx))


def audit(target: Sequence[Episode], fit: Sequence[Episode] | None = None, config: AuditConfig | None = None,
          *, name: str = "", fit_name: str = "") -> dict[str, Any]:
    """Every check of the episodes' family on ``target`` (fitted on ``fit``; ``None``: the two
    halves of ``target`` fitted on each other). Returns the report dict."""
    config = config or AuditConfig()
    family = family_of(target)
    ctx = AuditContext(render=config.render, backend=target[0].backend if target else "house", seed=config.seed,
                       extra=dict(config.extra))
    known = CHECKS.get(family, {})
    names = list(config.checks) if config.checks is not None else list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"audit: unknown check {unknown[0]!r} for family {family!r}; known: {', '.join(known)}")
    checks: dict[str, Any] = {}
    worst: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    skipped: list[str] = []
    for n in names:
        check = known[n]
        if check.renders and not config.render:
            skipped.append(n)
            continue
        figures = _run(check, target, fit, ctx)
        checks[n] = {"description": check.description, "by_group": {g: f.to_dict() for g, f in figures.items()}}
        for g, f in figures.items():
            margin = f.score - f.limit
            if g not in worst or margin > worst[g]["margin"]:
                worst[g] = {"check": n, "score": round(f.score, 4), "limit": f.limit, "chance": f.chance, "n": f.n,
                            "margin": round(margin, 4)}
            if not f.passed:
                failures.append(f"{n}/{g}: {f.score:.3f} > {f.limit} (n={f.n})")
    return {
        "suite": name, "family": family, "fit": fit_name or ("cross-fitted halves" if not fit else "given"),
        "n_episodes": len(target), "checks": checks, "worst_by_group": dict(sorted(worst.items())),
        "skipped": skipped, "failures": failures, "passed": not failures,
    }


def other_split(ref: str) -> str | None:
    """Another shipped split of the suite of ``"SUITE:SPLIT"`` (``ood`` for ``test``, else
    ``test``, else any), or ``None``."""
    text = os.fspath(ref)
    if ":" not in text or Path(text).exists():
        return None
    suite, _, split = text.partition(":")
    shipped = sorted(p.stem for p in resolve_ref(f"{suite}:{split}").parent.glob("*.jsonl") if p.stem != split)
    for pref in ("ood", "test"):
        if pref in shipped:
            return f"{suite}:{pref}"
    return f"{suite}:{shipped[0]}" if shipped else None


def audit_ref(ref: str, fit: str | None = None, config: AuditConfig | None = None) -> dict[str, Any]:
    """Audit ``ref`` (a ``SUITE:SPLIT`` or a path), fitted on ``fit`` (default: :func:`other_split`;
    none: cross-fitted halves)."""
    fit = fit or other_split(ref)
    return audit(load_episodes(ref), load_episodes(fit) if fit else None, config, name=str(ref), fit_name=fit or "")


def format_report(report: dict[str, Any]) -> str:
    """A readable table: per group the worst baseline, its score, chance and limit."""
    lines = [f"audit of {report['suite']} ({report['family']}, {report['n_episodes']} episodes; fitted on "
             f"{report['fit']})", f"{'group':<26}{'n':>5}  {'worst blind baseline':<28}{'score':>7}{'chance':>8}"
             f"{'limit':>7}"]
    for g, w in report["worst_by_group"].items():
        chance = "-" if w["chance"] is None else f"{w['chance']:.2f}"
        lines.append(f"{g:<26}{w['n']:>5}  {w['check']:<28}{w['score']:>7.3f}{chance:>8}{w['limit']:>7.2f}")
    if report["skipped"]:
        lines.append(f"skipped (no rendering): {', '.join(report['skipped'])}")
    lines.append("PASSED" if report["passed"] else "FAILED:\n  " + "\n  ".join(report["failures"]))
    return "\n".join(lines)
