"""The fixed-endpoint baselines of closed-loop suites: the best blind walk that is never blocked.

A fixed action sequence that no wall stops ends at one fixed point of the start pose's
egocentric frame in every episode (:mod:`embodied_gym.episodes.endpoints`). So, per task
category, the share of episodes whose reach goal lies in one disc of the success radius (plus
the grid's snap: :func:`~embodied_gym.episodes.endpoints.endpoint_radius`) around that point is
what the best such walk scores where it does not collide -- for *every* fixed walk at once,
not only the walkers the closed-loop audit rolls out. Two checks:

* ``fixed_endpoint``: the disc that holds most goals of the *fit* split (another split of the
  suite, or the other half of the target), scored on the target: a blind walk tuned on one split;
* ``fixed_endpoint_insplit``: the best disc chosen on the target itself (an upper bound over
  every fixed endpoint, selection included).

Episodes are placed by the egocentric *goal points* of their reach subgoals (``reach_object`` /
``reach_pose``; computed with the backend's ``shortest_path`` in the episode's scene). When every
episode of a category has several reach goals (``multi_stage``), an episode counts when its first
goal lies in one disc and its last goal in a second (a walk must pass the first to succeed);
otherwise the last reach goal alone counts. Episodes whose last subgoal is not a reach goal
(``open_door``, ``pick_drop``: interactions) are not scored here (``n = 0``); the walkers of
``walking_policies`` cover them, as they cover walks that collide. As there, a category with
fewer than ``min_n`` episodes (the closed-loop config's) is reported but cannot fail. Both checks load every
episode's scene in its backend (no frame is looked at), so ``--no-render`` skips them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..episodes.endpoints import candidate_centres, disc_count, disc_cover, egocentric_goal, endpoint_radius
from ..episodes.spec import Episode
from .closed_loop import ClosedLoopAuditConfig
from .registry import AuditContext, Figure, register

#: highest share of a category's episodes a fixed endpoint may reach (the contract's limit for
#: fixed non-visual walking policies)
ENDPOINT_LIMIT = 0.10
REACH_TYPES = frozenset({"reach_object", "reach_pose"})

_CACHE: dict[str, dict[str, Any] | None] = {}


def goal_points(episodes: Sequence[Episode], ctx: AuditContext) -> list[dict[str, Any] | None]:
    """Per episode (in order): ``{"goals": [(forward, left), ...], "radius": r}`` (the egocentric goal
    points of its reach subgoals in order, and the disc radius), or ``None`` when its last
    subgoal is not a reach goal or a goal is unreachable. Scenes are loaded once per episode
    (cached for the process by a digest of the episode's record)."""
    from ..sims import make_simulator

    keys = [_key(e) for e in episodes]
    sim = None
    try:
        for ep, key in zip(episodes, keys, strict=True):
            if key in _CACHE:
                continue
            reach = [sg for sg in ep.subgoals if sg.type in REACH_TYPES]
            if not ep.subgoals or ep.subgoals[-1].type not in REACH_TYPES:
                _CACHE[key] = None
                continue
            if sim is None:
                sim = make_simulator(ep.backend, seed=ctx.seed, width=32, height=24)
            sim.reset(ep.scene)
            objects = sim.objects()
            goals = []
            for sg in reach:
                point = sg.pose.position if sg.type == "reach_pose" else objects[sg.target].position
                goals.append(egocentric_goal(sim, ep.start_pose, point))
            ok = all(g is not None for g in goals)
            _CACHE[key] = {"goals": goals, "radius": endpoint_radius(sim, max(sg.radius for sg in reach))} if ok else None
    finally:
        if sim is not None:
            sim.close()
    return [_CACHE[k] for k in keys]


def _key(ep: Episode) -> str:
    """The cache key of an episode: a digest of its whole record (ids may repeat across suites)."""
    return hashlib.sha1(json.dumps(ep.to_dict(), sort_keys=True, default=str).encode()).hexdigest()


def _by_category(episodes: Sequence[Episode], ctx: AuditContext) -> dict[str, list[dict[str, Any] | None]]:
    out: dict[str, list[dict[str, Any] | None]] = {}
    for e, p in zip(episodes, goal_points(episodes, ctx), strict=True):
        out.setdefault(e.category, []).append(p)
    return out


def _paired(entries: Sequence[dict[str, Any]]) -> bool:
    return bool(entries) and all(len(x["goals"]) >= 2 for x in entries)


def best_discs(entries: Sequence[dict[str, Any]], paired: bool, radius: float) -> tuple[int, list[tuple[float, float]]]:
    """The most ``entries`` one disc (``paired``: a disc for the first goal and one for the last)
    holds, and the disc centres. Exact: for each candidate first disc (two first goals on its rim,
    or centred on one), the best last disc over the episodes it holds."""
    last = [x["goals"][-1] for x in entries]
    if not paired:
        k, c = disc_cover(last, radius)
        return k, [c]
    first = np.asarray([x["goals"][0] for x in entries], float)
    best: tuple[int, list[tuple[float, float]]] = (0, [(0.0, 0.0), (0.0, 0.0)])
    for ca in candidate_centres(first, radius):
        inside = np.linalg.norm(first - ca, axis=1) <= radius + 1e-6
        if inside.sum() <= best[0]:
            continue
        k, cb = disc_cover([last[i] for i in np.nonzero(inside)[0]], radius)
        if k > best[0]:
            best = (k, [(float(ca[0]), float(ca[1])), cb])
    return best


def score_discs(entries: Sequence[dict[str, Any]], centres: Sequence[Sequence[float]], radius: float) -> int:
    """How many ``entries`` the discs ``centres`` (one: last goal; two: first and last) hold."""
    if len(centres) == 1:
        return disc_count([x["goals"][-1] for x in entries], centres[0], radius)
    return sum(1 for x in entries if disc_count([x["goals"][0]], centres[0], radius)
               and disc_count([x["goals"][-1]], centres[1], radius))


def _note(centres, radius: float, k: int, n: int, skipped: int, where: str) -> str:
    spots = " then ".join(f"({c[0]:.1f} m ahead, {c[1]:.1f} m left)" for c in centres)
    out = f"{where}: disc r={radius:.2f} m at {spots}: {k}/{n}"
    if skipped:
        out += f"; {skipped} episodes without a reachable final reach goal not scored"
    return out


def _figures(target, fit, ctx, in_split: bool) -> dict[str, Figure]:
    min_n = ClosedLoopAuditConfig(**dict(ctx.extra.get("closed_loop", {}))).min_n
    tgt = _by_category(target, ctx)
    trn = _by_category(fit, ctx) if not in_split else tgt
    out = {}
    for cat, raw in sorted(tgt.items()):
        entries = [x for x in raw if x is not None]
        skipped = len(raw) - len(entries)
        if not entries:
            out[cat] = Figure(0.0, 0, ENDPOINT_LIMIT, None, "no reach goal to end at (interaction subgoals): not scored")
            continue
        radius = max(x["radius"] for x in entries)
        paired = _paired(entries)
        source = [x for x in trn.get(cat, []) if x is not None and (not paired or len(x["goals"]) >= 2)]
        if not source:
            out[cat] = Figure(0.0, 0, ENDPOINT_LIMIT, None, "nothing of this category to fit on")
            continue
        _, centres = best_discs(source, paired, radius)
        k = score_discs(entries, centres, radius)
        where = "best on this split" if in_split else "best on the fit episodes"
        note = _note(centres, radius, k, len(raw), skipped, where)
        few = len(raw) < min_n  # one disc always holds one of a handful of goals
        if few:
            note += f"; too few episodes to judge (fewer than {min_n}): reported, not failed"
        out[cat] = Figure(k / len(raw), len(raw), 1.0 if few else ENDPOINT_LIMIT, None, note)
    return out


@register("closed_loop", "fixed_endpoint",
          "any fixed action sequence that is never blocked ends at one egocentric point: the disc of the success "
          "radius (+ grid snap) holding most reach goals of the fit split, scored here, per category", renders=True, fits=True)
def fixed_endpoint(target: Sequence[Episode], fit: Sequence[Episode], ctx: AuditContext) -> dict[str, Figure]:
    return _figures(target, fit, ctx, in_split=False)


@register("closed_loop", "fixed_endpoint_insplit",
          "the same with the disc chosen on the scored split itself (an upper bound over every fixed endpoint)",
          renders=True, fits=False)
def fixed_endpoint_insplit(target: Sequence[Episode], fit: Sequence[Episode], ctx: AuditContext) -> dict[str, Figure]:
    return _figures(target, fit, ctx, in_split=True)
