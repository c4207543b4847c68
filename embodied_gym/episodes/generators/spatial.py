"""``spatial_semantic`` generator: targets named by viewpoint- and layout-dependent relations.

Relation kinds (``extra["relation"]``), each checked for a unique referent under the phrase used
(the definitions are documented in docs/TASKS.md, "Ground truth of spatial relations"):

* ``ordinal``   -- "the second chair from the left": the *candidates* are the same-category
  objects with at least :func:`~.common.min_pixels` pixels in the start frame (and no other
  object of that category has any pixel there), ordered by the bearing of their centres from the
  start pose (left = counter-clockwise from the heading), at least :data:`MIN_BEARING_GAP`
  degrees apart;
* ``relative``  -- "the ball to the left of the desk": the anchor is the only object of its
  category in the start frame; exactly one candidate's bearing lies left (right) of the anchor's
  by :data:`MIN_BEARING_GAP` degrees or more and every other candidate's lies on the other side
  by as much; or "the key on the table" from the scene's support relations;
* ``extreme``   -- "the nearest chair" / "the farthest chair": by *path length* from the start
  (the backend's geodesic distance to the object's position with every door open: the agent can
  open doors), with a margin of :data:`EXTREME_MARGIN` m over the runner-up; the target's own
  route needs no door;
* ``room``      -- "the key in the kitchen": the only key in a room whose kind is unique, while
  the house has other keys.

Every target lies :data:`~.common.CORRIDOR_CLEARANCE` m off the straight walk ahead of the start
and :data:`~.common.RIVAL_SEPARATION` m from every other object of its category.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from ...sims.base import ObjectInfo, Observation, Pose, Simulator
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
    noun,
    path_lengths,
    phrasing,
    pixels,
    plain_expression,
    plural,
    reach,
    room_of,
    room_phrase,
    same_category,
    sample_pose_facing,
    sample_start_pose,
    unique_room_kinds,
    view_from,
)

ATTEMPTS = 16
ORDINALS = ("first", "second", "third", "fourth")
#: metres of path length between the nearest (farthest) object and the runner-up
EXTREME_MARGIN = 1.5
#: degrees between the bearings of ordered candidates (and between candidates and an anchor)
MIN_BEARING_GAP = 8.0
#: path length (metres) of spatial targets from the start
TARGET_RANGE = (2.0, 10.0)

ORDINAL_TEMPLATES = {
    "in_domain": (
        "go to the {ord} {cat} from the {side}.",
        "among the {cats} you can see, walk to the {ord} one from the {side}.",
        "of the {cats} in view, approach the one that is {ord} from the {side}.",
    ),
    "ood": (
        "counting from the {side}, go to the {ord} {cat} you see.",
        "several {cats} are in sight; head for the {ord} one, counting from your {side}.",
    ),
}
RELATIVE_TEMPLATES = {
    "in_domain": (
        "go to the {cat} to the {side} of {anchor}.",
        "walk to the {cat} that is on the {side} side of {anchor}.",
    ),
    "ood": (
        "approach the {cat} {side} of {anchor}, as seen from where you stand.",
        "from your point of view, one {cat} is {side} of {anchor}; go to it.",
    ),
}
SUPPORT_TEMPLATES = {
    "in_domain": ("go to the {cat} on {anchor}.", "walk over to the {cat} that rests on {anchor}."),
    "ood": ("approach the {cat} lying on {anchor}.", "{anchor} has a {cat} on it; go to that {cat}."),
}
EXTREME_TEMPLATES = {
    "in_domain": {
        "nearest": ("go to the nearest {cat}.", "walk to the {cat} closest to you."),
        "farthest": ("go to the farthest {cat}.", "walk to the {cat} farthest from you."),
    },
    "ood": {
        "nearest": ("approach whichever {cat} is nearest to you.", "of all the {cats}, reach the one you can walk to soonest."),
        "farthest": ("approach the {cat} that is the farthest away from you.", "of all the {cats}, reach the one with the longest walk."),
    },
}
ROOM_TEMPLATES = {
    "in_domain": (
        "go to the {cat} in the {room}.",
        "find the {cat} that is in the {room} and walk to it.",
        "navigate to the {room}'s {cat}.",
    ),
    "ood": (
        "there are several {cats} in the house; go to the one in the {room}.",
        "only one {cat} is in the {room}; stand next to it.",
    ),
}


def _in_range(sim: Simulator, start: Pose, obj: ObjectInfo) -> bool:
    lo, hi = TARGET_RANGE
    return lo <= geodesic(sim, start, obj) <= hi


def _fair(sim: Simulator, start: Pose, obj: ObjectInfo, safe, relaxed: bool = False) -> bool:
    """The target rules shared by every relation: in range, away from blind walks, apart from rivals."""
    return _in_range(sim, start, obj) and safe(obj) and (relaxed or apart_from_rivals(obj, same_category(obj, sim.objects())))


def _candidates(sim: Simulator, obs: Observation, start: Pose, category: str) -> list[tuple[ObjectInfo, float]] | None:
    """The clearly visible objects of ``category`` with their bearings (left first), or ``None``
    when some object of the category is only barely visible or bearings are too close."""
    px = min_pixels(sim)
    group = []
    for o in navigation_targets(sim):
        if o.category != category:
            continue
        n = pixels(obs, o.id)
        if 0 < n < px:
            return None
        if n >= px:
            group.append((o, relative_bearing(start, o.position)))
    group.sort(key=lambda t: -t[1])
    if any(a[1] - b[1] < MIN_BEARING_GAP for a, b in zip(group, group[1:], strict=False)):
        return None
    return group


def _visible_categories(sim: Simulator, obs: Observation) -> list[str]:
    return sorted({o.category for o in navigation_targets(sim) if pixels(obs, o.id) > 0})


def _ordinal(sim: Simulator, rng: random.Random, start: Pose, obs: Observation, domain: str,
             relaxed: bool = False) -> TaskDraft | None:
    safe = blind_safe(sim, start, relaxed)
    cats = _visible_categories(sim, obs)
    rng.shuffle(cats)
    for cat in cats:
        group = _candidates(sim, obs, start, cat)
        if group is None or not (2 <= len(group) <= len(ORDINALS)):
            continue
        side = rng.choice(("left", "right"))
        order = group if side == "left" else group[::-1]
        ks = [k for k in range(len(order)) if _fair(sim, start, order[k][0], safe, relaxed)]
        if not ks:
            continue
        k = rng.choice(ks)
        target = order[k][0]
        name = noun(target, color=False)
        text = choose(rng, phrasing(ORDINAL_TEMPLATES, domain), ord=ORDINALS[k], cat=name, cats=plural(name), side=side)
        extra = {"relation": "ordinal", "ordinal": k + 1, "side": side, "candidates": [o.id for o, _ in order],
                 "bearings": [round(b, 1) for _, b in order]}
        return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {ORDINALS[k]} {name} from the {side}")], start, extra)
    return None


def _relative(sim: Simulator, rng: random.Random, start: Pose, obs: Observation, domain: str,
              relaxed: bool = False) -> TaskDraft | None:
    px = min_pixels(sim)
    objects = sim.objects()
    safe = blind_safe(sim, start, relaxed, SEARCH_WALL_ACTIONS)
    cats = _visible_categories(sim, obs)
    anchors = []
    for c in cats:
        group = [o for o in navigation_targets(sim) if o.category == c and pixels(obs, o.id) > 0]
        if len(group) == 1 and pixels(obs, group[0].id) >= px:
            anchors.append(group[0])
    rng.shuffle(anchors)
    for anchor in anchors:
        ab = relative_bearing(start, anchor.position)
        for cat in cats:
            if cat == anchor.category:
                continue
            group = _candidates(sim, obs, start, cat)
            if group is None or len(group) < 2:
                continue
            for side in rng.sample(["left", "right"], 2):
                sign = 1.0 if side == "left" else -1.0
                hits = [o for o, b in group if sign * (b - ab) >= MIN_BEARING_GAP]
                others_ok = all(sign * (ab - b) >= MIN_BEARING_GAP for o, b in group if o not in hits)
                if len(hits) != 1 or not others_ok or not _fair(sim, start, hits[0], safe, relaxed):
                    continue
                target = hits[0]
                a_name = f"the {noun(anchor, color=False)}"
                name = noun(target, color=False)
                text = choose(rng, phrasing(RELATIVE_TEMPLATES, domain), cat=name, side=side, anchor=a_name)
                extra = {"relation": "relative", "side": side, "anchor": anchor.id, "candidates": [o.id for o, _ in group]}
                return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {name} {side} of {a_name}")], start, extra)
    # support relation ("the key on the table"), independent of the viewpoint
    supported = [o for o in navigation_targets(sim) if o.on is not None and o.on in objects]
    rng.shuffle(supported)
    for target in supported:
        anchor = objects[target.on]  # type: ignore[index]
        a_name = plain_expression(anchor, objects)
        same = same_category(target, objects)
        if a_name is None or len(same) < 2 or sum(1 for o in same if o.on == anchor.id) != 1:
            continue
        if not _fair(sim, start, target, safe, relaxed):
            continue
        name = noun(target, color=False)
        text = choose(rng, phrasing(SUPPORT_TEMPLATES, domain), cat=name, anchor=a_name)
        extra = {"relation": "support", "anchor": anchor.id, "candidates": [o.id for o in same]}
        return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {name} on {a_name}")], start, extra)
    return None


def _extreme(sim: Simulator, rng: random.Random, start: Pose, obs: Observation, domain: str,
             relaxed: bool = False) -> TaskDraft | None:
    safe = blind_safe(sim, start, relaxed, SEARCH_WALL_ACTIONS)
    by_cat: dict[str, list[ObjectInfo]] = {}
    for o in navigation_targets(sim):
        by_cat.setdefault(o.category, []).append(o)
    cats = sorted(c for c, g in by_cat.items() if len(g) >= 2)
    rng.shuffle(cats)
    for cat in cats:
        group = by_cat[cat]
        now, opened = path_lengths(sim, start, group)
        if not all(math.isfinite(d) for d in opened):
            continue
        ranked = sorted(range(len(group)), key=lambda i: opened[i])
        for which in rng.sample(["nearest", "farthest"], 2):
            order = ranked if which == "nearest" else ranked[::-1]
            best, runner = order[0], order[1]
            target = group[best]
            if abs(opened[runner] - opened[best]) < EXTREME_MARGIN or abs(now[best] - opened[best]) > 0.05:
                continue  # no clear winner, or the route to it needs a door
            if not _fair(sim, start, target, safe, relaxed):
                continue
            name = noun(target, color=False)
            text = choose(rng, phrasing(EXTREME_TEMPLATES, domain)[which], cat=name, cats=plural(name))
            extra = {"relation": which, "candidates": [group[i].id for i in ranked],
                     "path_lengths": [round(opened[i], 3) for i in ranked]}
            return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {which} {name}")], start, extra)
    return None


def _room(sim: Simulator, rng: random.Random, start: Pose, obs: Observation, domain: str,
          relaxed: bool = False) -> TaskDraft | None:
    rooms = sim.rooms()
    named = unique_room_kinds(rooms)
    objects = sim.objects()
    safe = blind_safe(sim, start, relaxed, SEARCH_WALL_ACTIONS)
    cands = [o for o in navigation_targets(sim) if len(same_category(o, objects)) >= 2]
    rng.shuffle(cands)
    for target in cands:
        room = room_of(target, rooms)
        if room is None or room.id not in named:
            continue
        in_room = [o for o in same_category(target, objects) if (r := room_of(o, rooms)) is not None and r.id == room.id]
        if len(in_room) != 1 or not _fair(sim, start, target, safe, relaxed):
            continue
        name = noun(target, color=False)
        text = choose(rng, phrasing(ROOM_TEMPLATES, domain), cat=name, cats=plural(name), room=room_phrase(room))
        extra = {"relation": "room", "room": room.id, "candidates": [o.id for o in same_category(target, objects)]}
        return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {name} in the {room_phrase(room)}")], start, extra)
    return None


def _viewpoint(sim: Simulator, rng: random.Random) -> Pose:
    """A start pose facing a group of same-category objects of one room (where ordinal and
    relative references are possible), or a random pose when the house has no such group."""
    groups: dict[tuple[str, str | None], list[ObjectInfo]] = {}
    for o in navigation_targets(sim):
        groups.setdefault((o.category, o.room), []).append(o)
    multi = [g for _, g in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))) if len(g) >= 2]
    rooms = {r.id: r for r in sim.rooms()}
    rng.shuffle(multi)
    for group in multi[:3]:
        cx = sum(o.position[0] for o in group) / len(group)
        cz = sum(o.position[2] for o in group) / len(group)
        try:
            return sample_pose_facing(sim, rng, (cx, 0.0, cz), 1.8, 5.5, jitter=1, room=rooms.get(str(group[0].room)))
        except Rejected:
            continue
    return sample_start_pose(sim, rng)


RELATIONS: dict[str, Callable[..., TaskDraft | None]] = {
    "ordinal": _ordinal,
    "relative": _relative,
    "extreme": _extreme,
    "room": _room,
}


def generate_spatial_semantic(
    sim: Simulator, rng: random.Random, relation: str | None = None, strict: bool = False, domain: str = "in_domain",
    relaxed: bool = False,
) -> TaskDraft:
    """A target named by a relation. ``relation`` names the preferred kind of :data:`RELATIONS`
    (else kinds are tried in an order drawn by ``rng``); after half the attempts every kind is
    tried, so scenes without, say, two visible chairs still yield a task -- unless ``strict``, which
    rejects the scene instead (the suite insists on the preferred kind for its first scenes)."""
    others = rng.sample(sorted(RELATIONS), len(RELATIONS))
    preferred = [relation] if relation else others
    for attempt in range(ATTEMPTS):
        try:
            start = _viewpoint(sim, rng) if preferred[0] in ("ordinal", "relative") else sample_start_pose(sim, rng)
            obs = view_from(sim, start)
        except Rejected:
            continue
        fallback = not strict and attempt >= ATTEMPTS // 2
        kinds = preferred + [k for k in others if k not in preferred] if fallback else preferred
        for kind in kinds:
            draft = RELATIONS[kind](sim, rng, start, obs, domain, relaxed)
            if draft is not None:
                return draft
    raise Rejected("no spatial-semantic referent in this scene")
