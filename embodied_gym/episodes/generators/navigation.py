"""Navigation task generators: ``basic`` (go to a visible object), ``exploration`` (the target is
not in the start frame and must be searched for) and ``multi_stage`` (ordered targets with a
midway target, as EmbRACE-3K's "first go to X, then to Y")."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from ...sims.base import ObjectInfo, Pose, Simulator
from ...sims.geometry import relative_bearing
from .common import (
    SEARCH_WALL_ACTIONS,
    Rejected,
    TaskDraft,
    apart_from_rivals,
    blind_safe,
    choose,
    geodesic,
    min_pixels,
    navigation_targets,
    phrasing,
    pixels,
    reach,
    require_reachable,
    same_category,
    sample_pose_facing,
    sample_start_pose,
    turn_in_place_views,
    unique_expression,
    view_from,
)

ATTEMPTS = 16
#: a basic start view shows at least this many clearly visible navigation targets
MIN_VISIBLE = 3
#: degrees: at least two distractors lie this far from the target's bearing
DISTRACTOR_BEARING = 10.0
#: degrees: basic start headings put the target at most this far from the view's centre
VIEW_BEARING = 33.0
#: actions of the clearance walkers' walks a basic target keeps clear of at least (the release
#: before the fourth kept clear of these only, and blind walks past them found targets) ...
BASIC_WALL_ACTIONS = 60
#: ... and in general as many as the episode's step budget allows (:func:`basic_horizon`): the
#: suite's budget is ``2 x`` the demonstration's length ``+ 10`` (``SuiteConfig.max_steps``), and a
#: demonstration takes at most this many actions more than the path's length in moves (turns
#: and the grid's detours; at most 7 in the third release's 80 basic episodes). The suite refuses
#: an episode whose budget exceeds the horizon its target was kept clear for (``extra["clear_actions"]``).
BASIC_DEMO_SLACK = 8
#: metres: straight-line distance of basic start poses from the target (wide, so the split's
#: targets can spread in the start frame: see the suites' endpoint control) ...
BASIC_VIEW_DISTANCE = (3.0, 11.0)
#: ... and path length from the start to the target
BASIC_PATH_LENGTH = (2.5, 12.0)

BASIC_TEMPLATES = {
    "in_domain": (
        "go to {t}.",
        "walk over to {t}.",
        "navigate to {t} that you can see.",
        "move to {t} and stop next to it.",
        "head toward {t}.",
        "get close to {t}.",
    ),
    "ood": (
        "{t} is in view; walk up to it.",
        "make your way to {t} and stay beside it.",
        "your destination is {t}, which you can see from here.",
        "please stand next to {t}.",
    ),
}

EXPLORATION_TEMPLATES = {
    "in_domain": (
        "search your surroundings and navigate to {t}.",
        "find {t} and go to it.",
        "{t} is somewhere in the house; find it and walk up to it.",
        "look around for {t} and approach it.",
        "explore until you find {t}, then stop next to it.",
        "locate {t}; it is not in view right now. Go to it.",
    ),
    "ood": (
        "you cannot see {t} yet; track it down and stand next to it.",
        "somewhere in this home there is {t}. Seek it out and go over to it.",
        "hunt for {t} and end your walk beside it.",
        "{t} is hidden from your current view; search for it and reach it.",
    ),
}

MULTI2_TEMPLATES = {
    "in_domain": (
        "first go to {a}, then go to {b}.",
        "walk to {a} first, and after that head to {b}.",
        "go to {a}. Once you are there, continue to {b}.",
        "visit {a} and then {b}, in that order.",
        "first, walk to {a}, then proceed to {b}.",
    ),
    "ood": (
        "stop by {a} on your way to {b}.",
        "your route: {a} first, {b} second.",
        "before going to {b}, pass by {a}.",
    ),
}

MULTI3_TEMPLATES = {
    "in_domain": (
        "first go to {a}, then to {b}, and finally to {c}.",
        "visit {a}, then {b}, then {c}, in that order.",
        "walk to {a} first, next head to {b}, and end at {c}.",
    ),
    "ood": (
        "your route: {a} first, {b} second and {c} last.",
        "stop by {a} and then {b} on your way to {c}.",
    ),
}


def reachable_targets(sim: Simulator, start) -> list[ObjectInfo]:
    """Navigation targets (objects and furniture) with a finite geodesic distance from ``start``."""
    return [o for o in navigation_targets(sim) if geodesic(sim, start, o) < float("inf")]


def generate_basic(sim: Simulator, rng: random.Random, domain: str = "in_domain", relaxed: bool = False,
                   endpoint_ok: Callable[[Pose, ObjectInfo], bool] | None = None) -> TaskDraft:
    """A target among visible distractors: the start frame shows at least :data:`MIN_VISIBLE`
    clearly visible navigation targets (segmentation), at least two of them
    :data:`DISTRACTOR_BEARING` degrees or more from the target's bearing; the target has a
    house-wide unique name, lies :data:`BASIC_PATH_LENGTH` m away (path length), away from the
    blind walks from the start (:func:`~.common.blind_safe`) and :data:`RIVAL_SEPARATION` m from
    any other object of its category. A target is drawn first, then start poses
    :data:`BASIC_VIEW_DISTANCE` m from it that put it within :data:`VIEW_BEARING` degrees of the
    view's centre, so its place in the view is spread over the field of view.

    The blind walks kept clear of include every point of the straight walks ahead and one turn
    either side (the headings a target in view lies near), every position of the clearance
    walkers and, from their first refused move on, of the 4-step zig-zags
    (:func:`~..walker_family.drift_walkers`), each for the episode's whole step budget
    (:func:`basic_horizon`, recorded as ``extra["clear_actions"]``). ``endpoint_ok(start, target)`` is the
    suite's endpoint control (:class:`~embodied_gym.episodes.endpoints.EndpointSpread`: no disc
    of the success radius in the start frame holds more than a few of the split's targets, which
    bounds every fixed walk that is never blocked); it vetoes start poses before the costlier
    checks. ``relaxed``: see :data:`~.common.RELAXED_DOC`."""
    objects, rooms = sim.objects(), sim.rooms()
    px = min_pixels(sim)
    named = [(o, e) for o in reachable_targets(sim, sim.pose) if (e := unique_expression(o, objects, rooms))
             and (relaxed or apart_from_rivals(o, same_category(o, objects)))]
    rng.shuffle(named)
    for obj, expr in named[: 8 if endpoint_ok is None else 16]:  # the control vetoes many: try more targets
        poses = _poses_seeing(sim, rng, obj)
        rng.shuffle(poses)
        rendered = 0
        for start in poses:
            if rendered == 4:
                break
            lo, hi = BASIC_PATH_LENGTH
            path = geodesic(sim, start, obj)
            if not (lo <= path <= hi) or (endpoint_ok is not None and not endpoint_ok(start, obj)):
                continue
            horizon = basic_horizon(sim, path)
            if not blind_safe(sim, start, relaxed, horizon, fan=1, drift_actions=horizon)(obj):
                continue
            rendered += 1
            obs = view_from(sim, start)
            visible = [o for o in navigation_targets(sim) if pixels(obs, o.id) >= px]
            if all(o.id != obj.id for o in visible) or len(visible) < (1 if relaxed else MIN_VISIBLE):
                continue
            bearings = {o.id: relative_bearing(start, o.position) for o in visible}
            if not relaxed and sum(1 for o in visible if abs(bearings[o.id] - bearings[obj.id]) >= DISTRACTOR_BEARING) < 2:
                continue
            text = choose(rng, phrasing(BASIC_TEMPLATES, domain), t=expr)
            extra = {"target_pixels": pixels(obs, obj.id), "bearing": round(bearings[obj.id], 1),
                     "distractors": [o.id for o in visible if o.id != obj.id], "clear_actions": horizon}
            return TaskDraft("basic", text, [reach(obj, f"reach {expr}")], start, extra)
    raise Rejected("no start view with a clearly visible, uniquely nameable target away from blind walks among distractors")


def basic_horizon(sim: Simulator, path_length: float) -> int:
    """How many actions of the blind walks a basic target ``path_length`` m away keeps clear of:
    the longest step budget its episode can get (:data:`BASIC_DEMO_SLACK`), at least
    :data:`BASIC_WALL_ACTIONS`."""
    moves = math.ceil(path_length / float(sim.move_step) - 1e-9)
    return max(BASIC_WALL_ACTIONS, 2 * (moves + BASIC_DEMO_SLACK) + 10)


def _poses_seeing(sim: Simulator, rng: random.Random, obj: ObjectInfo, tries: int = 24) -> list[Pose]:
    """Navigable poses :data:`BASIC_VIEW_DISTANCE` m (straight line) from ``obj`` with a heading (a multiple of
    ``sim.turn_step``) that puts ``obj`` within :data:`VIEW_BEARING` degrees of the view's centre;
    every such heading of ``tries`` sampled positions."""
    out = []
    n = max(1, int(round(360.0 / sim.turn_step)))
    for _ in range(tries):
        try:
            p = sample_pose_facing(sim, rng, obj.position, *BASIC_VIEW_DISTANCE, jitter=0)
        except Rejected:
            return out
        for k in range(n):
            q = p.with_(yaw=(k * sim.turn_step) % 360.0)
            if abs(relative_bearing(q, obj.position)) <= VIEW_BEARING:
                out.append(q)
    return out


def generate_exploration(sim: Simulator, rng: random.Random, domain: str = "in_domain", relaxed: bool = False) -> TaskDraft:
    """A target with no pixel in the start frame's segmentation. ``extra["search"]`` is
    ``"turn"`` when a full turn in place reveals it, ``"move"`` when the agent must walk to see it
    (preferred: two attempts in three insist on ``"move"``). The target lies
    :data:`CORRIDOR_CLEARANCE` m off the straight walk ahead."""
    objects, rooms = sim.objects(), sim.rooms()
    want_move = rng.random() < 2 / 3
    for _ in range(ATTEMPTS):
        start = sample_start_pose(sim, rng)
        obs = view_from(sim, start)
        safe = blind_safe(sim, start, relaxed, SEARCH_WALL_ACTIONS)
        cands = [o for o in reachable_targets(sim, start) if pixels(obs, o.id) == 0 and safe(o)]
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
            text = choose(rng, phrasing(EXPLORATION_TEMPLATES, domain), t=expr)
            extra = {"search": "turn" if seen_turning else "move", "start_pixels": 0}
            return TaskDraft("exploration", text, [reach(obj, f"find and reach {expr}")], start, extra)
    raise Rejected("no target hidden from the start view")


def generate_multi_stage(sim: Simulator, rng: random.Random, domain: str = "in_domain", relaxed: bool = False) -> TaskDraft:
    """Two (or, one time in four, three) distinct uniquely named targets visited in order; the
    first ones are *midway targets* (``extra["midway"]`` lists their subgoal indices). The first
    target lies :data:`CORRIDOR_CLEARANCE` m off the straight walk ahead."""
    objects, rooms = sim.objects(), sim.rooms()
    n_targets = 3 if rng.random() < 0.25 else 2
    for _ in range(ATTEMPTS):
        start = sample_start_pose(sim, rng)
        named = [(o, e) for o in reachable_targets(sim, start) if (e := unique_expression(o, objects, rooms))]
        rng.shuffle(named)
        safe = blind_safe(sim, start, relaxed, SEARCH_WALL_ACTIONS)
        chosen: list[tuple[ObjectInfo, str]] = []
        prev = None
        for obj, expr in named:
            d = geodesic(sim, start, obj) if prev is None else sim.geodesic_distance(prev.position, obj.position)
            if not (2.0 <= d <= 6.0) or (prev is None and not safe(obj)):
                continue
            chosen.append((obj, expr))
            prev = obj
            if len(chosen) == n_targets:
                break
        if len(chosen) < n_targets:
            continue
        exprs = [e for _, e in chosen]
        if n_targets == 2:
            text = choose(rng, phrasing(MULTI2_TEMPLATES, domain), a=exprs[0], b=exprs[1])
        else:
            text = choose(rng, phrasing(MULTI3_TEMPLATES, domain), a=exprs[0], b=exprs[1], c=exprs[2])
        subgoals = [
            reach(o, f"reach {e}")
            for i, (o, e) in enumerate(chosen)
        ]
        return TaskDraft("multi_stage", text, subgoals, start, {"midway": list(range(n_targets - 1))})
    raise Rejected("no ordered set of reachable, uniquely nameable targets")
