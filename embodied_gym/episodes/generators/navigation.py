"""Navigation task generators: ``basic`` (go to a visible object), ``exploration`` (the target is
not in the start frame and must be searched for) and ``multi_stage`` (ordered targets with a
midway target, as EmbRACE-3K's "first go to X, then to Y")."""

from __future__ import annotations

import random

from ...sims.base import ObjectInfo, Simulator
from .common import (
    Rejected,
    TaskDraft,
    choose,
    geodesic,
    min_pixels,
    navigation_targets,
    pixels,
    reach,
    require_reachable,
    sample_pose_facing,
    sample_start_pose,
    turn_in_place_views,
    unique_expression,
    view_from,
)

ATTEMPTS = 12

BASIC_TEMPLATES = (
    "go to {t}.",
    "walk over to {t}.",
    "approach {t} in front of you.",
    "navigate to {t} that you can see.",
    "move to {t} and stop next to it.",
    "head toward {t}.",
    "get close to {t}.",
)

EXPLORATION_TEMPLATES = (
    "search your surroundings and navigate to {t}.",
    "find {t} and go to it.",
    "{t} is somewhere in the house; find it and walk up to it.",
    "look around for {t} and approach it.",
    "explore until you find {t}, then stop next to it.",
    "locate {t}; it is not in view right now. Go to it.",
)

MULTI2_TEMPLATES = (
    "first go to {a}, then go to {b}.",
    "walk to {a} first, and after that head to {b}.",
    "go to {a}. Once you are there, continue to {b}.",
    "visit {a} and then {b}, in that order.",
    "first, walk to {a}, then proceed to {b}.",
)

MULTI3_TEMPLATES = (
    "first go to {a}, then to {b}, and finally to {c}.",
    "visit {a}, then {b}, then {c}, in that order.",
    "walk to {a} first, next head to {b}, and end at {c}.",
)


def reachable_targets(sim: Simulator, start) -> list[ObjectInfo]:
    """Navigation targets (objects and furniture) with a finite geodesic distance from ``start``."""
    return [o for o in navigation_targets(sim) if geodesic(sim, start, o) < float("inf")]


def generate_basic(sim: Simulator, rng: random.Random) -> TaskDraft:
    """A clearly visible (segmentation) target with a house-wide unique name, at least
    ``MIN_START_DISTANCE`` away: a target is drawn first, then start poses facing it."""
    objects, rooms = sim.objects(), sim.rooms()
    px = min_pixels(sim)
    named = [(o, e) for o in reachable_targets(sim, sim.pose) if (e := unique_expression(o, objects, rooms))]
    rng.shuffle(named)
    for obj, expr in named[:4]:
        for _ in range(4):
            try:
                start = sample_pose_facing(sim, rng, obj.position, 2.0, 6.0)
                obs = view_from(sim, start)
                require_reachable(sim, start, [obj])
            except Rejected:
                continue
            if pixels(obs, obj.id) < px:
                continue
            text = choose(rng, BASIC_TEMPLATES, t=expr)
            return TaskDraft("basic", text, [reach(obj, f"reach {expr}")], start, {"target_pixels": pixels(obs, obj.id)})
    raise Rejected("no clearly visible, uniquely nameable target")


def generate_exploration(sim: Simulator, rng: random.Random) -> TaskDraft:
    """A target with no pixel in the start frame's segmentation. ``extra["search"]`` is
    ``"turn"`` when a full turn in place reveals it, ``"move"`` when the agent must walk to see it
    (preferred: two attempts in three insist on ``"move"``)."""
    objects, rooms = sim.objects(), sim.rooms()
    want_move = rng.random() < 2 / 3
    for _ in range(ATTEMPTS):
        start = sample_start_pose(sim, rng)
        obs = view_from(sim, start)
        cands = [o for o in reachable_targets(sim, start) if pixels(obs, o.id) == 0]
        rng.shuffle(cands)
        for obj in cands[:4]:
            expr = unique_expression(obj, objects, rooms)
            if expr is None:
                continue
            try:
                require_reachable(sim, start, [obj], min_distance=2.5)
                if geodesic(sim, start, obj) > 9.0:
                    continue
            except Rejected:
                continue
            seen_turning = any(pixels(v, obj.id) > 0 for v in turn_in_place_views(sim, start))
            if want_move and seen_turning:
                continue
            text = choose(rng, EXPLORATION_TEMPLATES, t=expr)
            extra = {"search": "turn" if seen_turning else "move", "start_pixels": 0}
            return TaskDraft("exploration", text, [reach(obj, f"find and reach {expr}")], start, extra)
    raise Rejected("no target hidden from the start view")


def generate_multi_stage(sim: Simulator, rng: random.Random) -> TaskDraft:
    """Two (or, one time in four, three) distinct uniquely named targets visited in order; the
    first ones are *midway targets* (``extra["midway"]`` lists their subgoal indices)."""
    objects, rooms = sim.objects(), sim.rooms()
    n_targets = 3 if rng.random() < 0.25 else 2
    for _ in range(ATTEMPTS):
        start = sample_start_pose(sim, rng)
        named = [(o, e) for o in reachable_targets(sim, start) if (e := unique_expression(o, objects, rooms))]
        rng.shuffle(named)
        chosen: list[tuple[ObjectInfo, str]] = []
        prev = None
        for obj, expr in named:
            d = geodesic(sim, start, obj) if prev is None else sim.geodesic_distance(prev.position, obj.position)
            if not (2.0 <= d <= 6.0):
                continue
            chosen.append((obj, expr))
            prev = obj
            if len(chosen) == n_targets:
                break
        if len(chosen) < n_targets:
            continue
        exprs = [e for _, e in chosen]
        if n_targets == 2:
            text = choose(rng, MULTI2_TEMPLATES, a=exprs[0], b=exprs[1])
        else:
            text = choose(rng, MULTI3_TEMPLATES, a=exprs[0], b=exprs[1], c=exprs[2])
        subgoals = [
            reach(o, f"reach {e}")
            for i, (o, e) in enumerate(chosen)
        ]
        return TaskDraft("multi_stage", text, subgoals, start, {"midway": list(range(n_targets - 1))})
    raise Rejected("no ordered set of reachable, uniquely nameable targets")
