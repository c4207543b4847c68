"""``spatial_semantic`` generator: targets named by viewpoint- and layout-dependent relations.

Relation kinds (``extra["relation"]``), each checked for a unique referent under the phrase used:

* ``ordinal``   -- "the second chair from the left" among the same-category objects visible in
  the start frame (ordered by segmentation box centre, all of them clearly visible and apart);
* ``relative``  -- "the ball to the left of the desk": exactly one ball of the start view lies
  left of the (only visible) desk, every other visible ball right of the desk's centre; or
  "the key on the table" from the scene's support relations;
* ``extreme``   -- "the nearest chair" / "the farthest chair": by geodesic distance from the
  start, with a clear margin to the runner-up;
* ``room``      -- "the key in the kitchen": the only key in a room whose kind is unique, while
  the house has other keys.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ...sims.base import ObjectInfo, Observation, Pose, Simulator
from .common import (
    MIN_START_DISTANCE,
    Rejected,
    TaskDraft,
    bbox_of,
    choose,
    geodesic,
    min_pixels,
    navigation_targets,
    noun,
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
EXTREME_MARGIN = 1.0

ORDINAL_TEMPLATES = (
    "go to the {ord} {cat} from the {side}.",
    "among the {cats} you can see, walk to the {ord} one from the {side}.",
    "of the {cats} in view, approach the one that is {ord} from the {side}.",
    "counting from the {side}, go to the {ord} {cat} you see.",
)
RELATIVE_TEMPLATES = (
    "go to the {cat} to the {side} of {anchor}.",
    "walk to the {cat} that is on the {side} side of {anchor}.",
    "approach the {cat} {side} of {anchor}, as seen from where you stand.",
)
SUPPORT_TEMPLATES = (
    "go to the {cat} on {anchor}.",
    "walk over to the {cat} that rests on {anchor}.",
    "approach the {cat} lying on {anchor}.",
)
EXTREME_TEMPLATES = {
    "nearest": ("go to the nearest {cat}.", "walk to the {cat} closest to you.", "approach whichever {cat} is nearest to you."),
    "farthest": ("go to the farthest {cat}.", "walk to the {cat} farthest from you.", "approach the {cat} that is the farthest away from you."),
}
ROOM_TEMPLATES = (
    "go to the {cat} in the {room}.",
    "find the {cat} that is in the {room} and walk to it.",
    "navigate to the {room}'s {cat}.",
    "there are several {cats} in the house; go to the one in the {room}.",
)


def _far_enough(sim: Simulator, start: Pose, obj: ObjectInfo, minimum: float = MIN_START_DISTANCE) -> bool:
    d = geodesic(sim, start, obj)
    return minimum <= d <= 9.0


def _visible_groups(sim: Simulator, obs: Observation) -> dict[str, list[tuple[ObjectInfo, tuple[int, int, int, int]]]]:
    """Category -> objects with any pixel in the frame, with their segmentation boxes."""
    groups: dict[str, list[tuple[ObjectInfo, tuple[int, int, int, int]]]] = {}
    for o in navigation_targets(sim):
        box = bbox_of(obs, o.id)
        if box is not None:
            groups.setdefault(o.category, []).append((o, box))
    return groups


def _centre(box: tuple[int, int, int, int]) -> float:
    return (box[0] + box[2]) / 2.0


def _ordinal(sim: Simulator, rng: random.Random, start: Pose, obs: Observation) -> TaskDraft | None:
    px, gap = min_pixels(sim) // 2, 0.06 * sim.width
    groups = _visible_groups(sim, obs)
    cats = sorted(c for c, g in groups.items() if 2 <= len(g) <= len(ORDINALS))
    rng.shuffle(cats)
    for cat in cats:
        group = sorted(groups[cat], key=lambda t: _centre(t[1]))
        if any(pixels(obs, o.id) < px for o, _ in group):
            continue  # a barely visible instance would make the count ambiguous
        centres = [_centre(b) for _, b in group]
        if any(b - a < gap for a, b in zip(centres, centres[1:], strict=False)):
            continue
        side = rng.choice(("left", "right"))
        order = group if side == "left" else group[::-1]
        k = rng.randrange(len(order))
        target = order[k][0]
        if not _far_enough(sim, start, target, 1.5):
            continue
        name = noun(target, color=False)
        text = choose(rng, ORDINAL_TEMPLATES, ord=ORDINALS[k], cat=name, cats=plural(name), side=side)
        extra = {"relation": "ordinal", "ordinal": k + 1, "side": side, "candidates": [o.id for o, _ in group]}
        return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {ORDINALS[k]} {name} from the {side}")], start, extra)
    return None


def _relative(sim: Simulator, rng: random.Random, start: Pose, obs: Observation) -> TaskDraft | None:
    px = min_pixels(sim)
    objects = sim.objects()
    groups = _visible_groups(sim, obs)
    anchors = [g[0] for c, g in sorted(groups.items()) if len(g) == 1 and pixels(obs, g[0][0].id) >= px]
    multi = [c for c, g in sorted(groups.items()) if len(g) >= 2]
    rng.shuffle(anchors)
    for anchor, abox in anchors:
        for cat in multi:
            if cat == anchor.category:
                continue
            group = groups[cat]
            if any(pixels(obs, o.id) < px for o, _ in group):
                continue
            for side in rng.sample(["left", "right"], 2):
                if side == "left":
                    hits = [o for o, b in group if _centre(b) < abox[0]]
                    others_ok = all(_centre(b) > _centre(abox) for o, b in group if o not in hits)
                else:
                    hits = [o for o, b in group if _centre(b) > abox[2]]
                    others_ok = all(_centre(b) < _centre(abox) for o, b in group if o not in hits)
                if len(hits) != 1 or not others_ok or not _far_enough(sim, start, hits[0], 1.5):
                    continue
                target = hits[0]
                a_name = f"the {noun(anchor, color=False)}"
                name = noun(target, color=False)
                text = choose(rng, RELATIVE_TEMPLATES, cat=name, side=side, anchor=a_name)
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
        if not _far_enough(sim, start, target):
            continue
        name = noun(target, color=False)
        text = choose(rng, SUPPORT_TEMPLATES, cat=name, anchor=a_name)
        extra = {"relation": "support", "anchor": anchor.id, "candidates": [o.id for o in same]}
        return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {name} on {a_name}")], start, extra)
    return None


def _extreme(sim: Simulator, rng: random.Random, start: Pose, obs: Observation) -> TaskDraft | None:
    by_cat: dict[str, list[ObjectInfo]] = {}
    for o in navigation_targets(sim):
        by_cat.setdefault(o.category, []).append(o)
    cats = sorted(c for c, g in by_cat.items() if len(g) >= 2)
    rng.shuffle(cats)
    for cat in cats:
        dists = sorted((geodesic(sim, start, o), o.id) for o in by_cat[cat])
        # an unreachable instance can only be the farthest one
        which = "nearest" if any(d == float("inf") for d, _ in dists) else rng.choice(("nearest", "farthest"))
        ordered = dists if which == "nearest" else dists[::-1]
        (d0, best), (d1, _) = ordered[0], ordered[1]
        if abs(d1 - d0) < EXTREME_MARGIN or d0 < 1.5 or d0 > 9.0:
            continue
        target = sim.objects()[best]
        name = noun(target, color=False)
        text = choose(rng, EXTREME_TEMPLATES[which], cat=name)
        extra = {"relation": which, "candidates": [i for _, i in dists], "distances": [round(d, 3) for d, _ in dists]}
        return TaskDraft("spatial_semantic", text, [reach(target, f"reach the {which} {name}")], start, extra)
    return None


def _room(sim: Simulator, rng: random.Random, start: Pose, obs: Observation) -> TaskDraft | None:
    rooms = sim.rooms()
    named = unique_room_kinds(rooms)
    objects = sim.objects()
    cands = [o for o in navigation_targets(sim) if len(same_category(o, objects)) >= 2]
    rng.shuffle(cands)
    for target in cands:
        room = room_of(target, rooms)
        if room is None or room.id not in named:
            continue
        in_room = [o for o in same_category(target, objects) if (r := room_of(o, rooms)) is not None and r.id == room.id]
        if len(in_room) != 1 or not _far_enough(sim, start, target):
            continue
        name = noun(target, color=False)
        text = choose(rng, ROOM_TEMPLATES, cat=name, cats=plural(name), room=room_phrase(room))
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
            return sample_pose_facing(sim, rng, (cx, 0.0, cz), 1.8, 5.5, jitter=0, room=rooms.get(str(group[0].room)))
        except Rejected:
            continue
    return sample_start_pose(sim, rng)


RELATIONS: dict[str, Callable[[Simulator, random.Random, Pose, Observation], TaskDraft | None]] = {
    "ordinal": _ordinal,
    "relative": _relative,
    "extreme": _extreme,
    "room": _room,
}


def generate_spatial_semantic(
    sim: Simulator, rng: random.Random, relation: str | None = None, strict: bool = False
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
            draft = RELATIONS[kind](sim, rng, start, obs)
            if draft is not None:
                return draft
    raise Rejected("no spatial-semantic referent in this scene")
