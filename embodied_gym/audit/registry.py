"""The registry of blind-baseline checks, per suite family.

A *check* is a function ``check(target, fit, ctx) -> {group: Figure}`` that attacks the episodes
of ``target`` without looking at their pixels; anything it learns it fits on ``fit`` (another
split of the same suite, or the other half of ``target`` when no other split exists). ``group``
is a skill (BEAR) or a task category (closed loop). Each :class:`Figure` states the baseline's
score, the number of questions/episodes, the chance level and the limit the score must not
exceed; the audit fails when any figure is over its limit.

Families: ``"bear"`` (episodes carrying ``extra["bear"]["queries"]``) and ``"closed_loop"``
(every other episode). Register a check with::

    @register("closed_loop", "walk_forward", "walk forward 10 steps, then Finish")
    def walk_forward(target, fit, ctx): ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..episodes.spec import Episode


@dataclass
class Figure:
    """One baseline's result on one group: ``score`` (accuracy / success rate / share of bad
    questions), ``n`` (questions or episodes scored), ``chance`` (what guessing scores; ``None``
    when not meaningful) and ``limit`` (the highest score a valid suite allows)."""

    score: float
    n: int
    limit: float
    chance: float | None = None
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.n == 0 or self.score <= self.limit + 1e-12

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"score": round(float(self.score), 4), "n": int(self.n), "limit": self.limit,
                               "chance": None if self.chance is None else round(float(self.chance), 4),
                               "passed": self.passed}
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class AuditContext:
    """What checks may use besides the episodes: ``render`` (whether checks that replay frames,
    e.g. visibility, may run the simulator), ``backend`` and ``seed``."""

    render: bool = True
    backend: str = "house"
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[Sequence[Episode], Sequence[Episode], AuditContext], dict[str, Figure]]


@dataclass(frozen=True)
class Check:
    """A registered check: ``family``, ``name``, a one-line ``description`` and the function;
    ``renders`` says it replays frames (skipped when :attr:`AuditContext.render` is off)."""

    family: str
    name: str
    description: str
    fn: CheckFn
    renders: bool = False
    #: whether it learns anything from ``fit`` (a check that does not runs once on the whole target)
    fits: bool = True


CHECKS: dict[str, dict[str, Check]] = {"bear": {}, "closed_loop": {}}


def register(family: str, name: str, description: str, *, renders: bool = False,
             fits: bool = True) -> Callable[[CheckFn], CheckFn]:
    """Decorator adding ``fn`` to the checks of ``family`` under ``name`` (unique per family);
    ``fits=False`` for checks that learn nothing from the fit episodes."""

    def deco(fn: CheckFn) -> CheckFn:
        checks = CHECKS.setdefault(family, {})
        if name in checks:
            raise ValueError(f"audit: check {name!r} is already registered for family {family!r}")
        checks[name] = Check(family, name, description, fn, renders, fits)
        return fn

    return deco


def family_of(episodes: Sequence[Episode]) -> str:
    """``"bear"`` when the episodes carry BEAR queries, else ``"closed_loop"``."""
    if episodes and all(isinstance(ep.extra.get("bear"), dict) for ep in episodes):
        return "bear"
    return "closed_loop"
