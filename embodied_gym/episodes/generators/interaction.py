"""Interaction task generators: ``open_door`` ("open the door to the office") and ``pick_drop``
("pick up the red key and drop it on the desk in the office")."""

from __future__ import annotations

import math
import random

import numpy as np

from ...sims.base import RoomInfo, Simulator
from ...sims.geometry import door_rooms
from ..spec import Subgoal
from ..walker_family import clearance_walkers
from ..walkers import traces
from .common import (
    Rejected,
    TaskDraft,
    approach_distance,
    blind_walks,
    choose,
    items,
    off_corridor,
    phrasing,
    room_of,
    room_phrase,
    sample_start_pose,
    unique_expression,
    unique_room_kinds,
)

ATTEMPTS = 16
#: an open_door house has at least this many closed doors ...
MIN_CLOSED_DOORS = 3
#: ... at least this many of them can be reached from the start without opening any door ...
MIN_REACHABLE_DOORS = 2
#: ... and at least this many of those are nearer to the start than the named one (by this margin
#: in metres of path length), so a blind agent that opens the first door it meets opens a wrong one
NEARER_RIVALS = 1
NEARER_MARGIN = 0.5
#: metres beyond the interaction distance the named door keeps from the blind walks' resting points
DOOR_CLEARANCE_MARGIN = 0.5
#: the named door is not the first door met in this many actions of any clearance walker (wall
#: following, forward until blocked then a fixed turn)
WALL_DOOR_ACTIONS = 120

OPEN_TEMPLATES = {
    "in_domain": (
        "open the door to the {room}.",
        "go to the door leading into the {room} and open it.",
        "find the door to the {room} and open it.",
        "walk up to the {room} door and open it.",
    ),
    "ood": (
        "the {room} is closed off; open its door.",
        "get the {room}'s door open, and leave every other door shut.",
        "unlock access to the {room} by opening its door.",
    ),
}
OPEN_BETWEEN_TEMPLATES = {
    "in_domain": (
        "open the door between the {a} and the {b}.",
        "find the door that connects the {a} and the {b}, and open it.",
        "go to the door between the {a} and the {b} and open it.",
    ),
    "ood": (
        "the {a} and the {b} share a closed door; open it.",
        "open up the passage from the {a} to the {b}.",
    ),
}
PICK_DROP_TEMPLATES = {
    "in_domain": (
        "pick up {p} and drop it on {r}.",
        "take {p} and put it on {r}.",
        "grab {p}, carry it to {r} and drop it there.",
        "bring {p} to {r} and place it on top.",
    ),
    "ood": (
        "move {p} onto {r}.",
        "{r} should hold {p}; carry it there.",
        "relocate {p} so that it rests on {r}.",
    ),
}


def generate_open_door(sim: Simulator, rng: random.Random, domain: str = "in_domain", relaxed: bool = False) -> TaskDraft:
    """One of several closed doors, named by the room behind it (when that room's kind is unique
    and it has no other door) or by the two rooms it joins. The house has at least
    :data:`MIN_CLOSED_DOORS` closed doors, at least :data:`MIN_REACHABLE_DOORS` of them reachable
    from the start without opening any door; the target is drawn uniformly among the nameable
    reachable doors with at least :data:`NEARER_RIVALS` reachable closed doors nearer to the start
    (path length to a point within 0.8 m of the door) and none of the straight blind walks from
    the start (:func:`~.common.blind_walks`) passes or stops within ``interact_distance`` +
    :data:`DOOR_CLEARANCE_MARGIN` of it (wall following passes every door of a room: the nearer
    rival and ``keep_closed`` answer that), and it is not the first door a left- or right-hand
    wall follower (probe periods 2-6) or fixed-turn bump walker from the start comes within reach of
    (:func:`_first_doors_met`). The subgoal's ``keep_closed`` lists every other closed
    door, so opening a wrong door fails the episode."""
    objects, rooms = sim.objects(), sim.rooms()
    named = unique_room_kinds(rooms)
    doors = [d for d in items(objects, "door") if d.openable and not d.is_open]
    need_closed, need_reachable, need_nearer = (1, 1, 0) if relaxed else (MIN_CLOSED_DOORS, MIN_REACHABLE_DOORS, NEARER_RIVALS)
    if len(doors) < need_closed:
        raise Rejected(f"only {len(doors)} closed doors (need {need_closed})")
    for _ in range(ATTEMPTS):
        start = sample_start_pose(sim, rng)
        reach = {d.id: approach_distance(sim, start, d, within=0.8) for d in doors}
        reachable = [d for d in doors if 1.5 <= reach[d.id] <= 15.0]
        if len(reachable) < need_reachable:
            continue
        walks = blind_walks(sim, start) if not relaxed else None
        first_met = set() if relaxed else _first_doors_met(sim, start, reachable)
        options = []
        for door in reachable:
            if sum(1 for d in reachable if reach[d.id] <= reach[door.id] - NEARER_MARGIN) < need_nearer:
                continue
            if not relaxed and not off_corridor(walks, door, sim.interact_distance + DOOR_CLEARANCE_MARGIN):
                continue  # a blind walk would come to rest within reach of it
            if door.id in first_met:
                continue  # the first door a wall-following agent meets
            joined = door_rooms(door, rooms)
            if len(joined) != 2:
                continue
            for far in joined:
                near = joined[1] if far is joined[0] else joined[0]
                doors_of_far = [o for o in items(objects, "door") if far in door_rooms(o, rooms)]
                if far.id in named and len(doors_of_far) == 1:
                    options.append((door, near, far, "to_room"))
                    break
            else:
                a, b = joined
                between = [o for o in items(objects, "door") if {r.id for r in door_rooms(o, rooms)} == {a.id, b.id}]
                if a.id in named and b.id in named and len(between) == 1:
                    options.append((door, a, b, "between"))
        if not options:
            continue
        door, near, far, how = options[rng.randrange(len(options))]
        if how == "to_room":
            text = choose(rng, phrasing(OPEN_TEMPLATES, domain), room=room_phrase(far))
        else:
            a, b = (near, far) if rng.random() < 0.5 else (far, near)
            text = choose(rng, phrasing(OPEN_BETWEEN_TEMPLATES, domain), a=room_phrase(a), b=room_phrase(b))
        others = [d.id for d in doors if d.id != door.id]
        subgoal = Subgoal("open", target=door.id, radius=1.0, description=f"open {text_of(how, near, far)}",
                          keep_closed=others)
        extra = {"door_rooms": [near.id, far.id], "naming": how, "reachable_doors": [d.id for d in reachable]}
        return TaskDraft("open_door", text, [subgoal], start, extra)
    raise Rejected("no start with several reachable closed doors, one of them nameable")


def _first_doors_met(sim: Simulator, start, doors) -> set[int]:
    """The doors of ``doors`` that some walker of :func:`~..walker_family.clearance_walkers`
    (wall following either hand with probe periods 2-6, forward until blocked then a fixed turn)
    comes within ``interact_distance`` of first, in its first :data:`WALL_DOOR_ACTIONS` actions
    from ``start`` (doors as they are): the door a blind "open the first door you meet" agent opens."""
    if not doors:
        return set()
    pos = np.asarray([d.position[::2] for d in doors], dtype=float)
    met = set()
    for walk in traces(clearance_walkers(), sim, start, WALL_DOOR_ACTIONS):
        gaps = np.hypot(walk[:, None, 0] - pos[None, :, 0], walk[:, None, 1] - pos[None, :, 1])
        hit = np.flatnonzero((gaps <= sim.interact_distance).any(axis=1))
        if len(hit):
            met.add(doors[int(np.argmin(gaps[hit[0]]))].id)
    return met


def text_of(how: str, near: RoomInfo, far: RoomInfo) -> str:
    if how == "to_room":
        return f"the door to the {room_phrase(far)}"
    return f"the door between the {room_phrase(near)} and the {room_phrase(far)}"


def generate_pick_drop(sim: Simulator, rng: random.Random, domain: str = "in_domain", relaxed: bool = False) -> TaskDraft:
    """A uniquely named pickable object and a uniquely named receptacle it does not rest on yet,
    both reachable from the start and from each other."""
    objects, rooms = sim.objects(), sim.rooms()
    movable = [o for o in items(objects, "object") if o.pickable and not o.held]
    holders = [o for o in items(objects, "furniture") if o.receptacle]
    if not movable or not holders:
        raise Rejected("no pickable object or receptacle")
    for _ in range(ATTEMPTS):
        start = sample_start_pose(sim, rng)
        obj = rng.choice(movable)
        p_expr = unique_expression(obj, objects, rooms)
        if p_expr is None:
            continue
        # receptacles in another room are named by room ("the desk in the office") when needed
        cands = [r for r in holders if r.id != obj.on]
        rng.shuffle(cands)
        for holder in cands[:6]:
            prefer_room = rng.random() < 0.5 and room_of(holder, rooms) != room_of(obj, rooms)
            r_expr = unique_expression(holder, objects, rooms, prefer_room=prefer_room)
            if r_expr is None:
                continue
            d1 = approach_distance(sim, start, obj)
            d2 = approach_distance(sim, start, holder, within=1.0)
            if not (1.5 <= d1 <= 7.0) or not (d2 <= 9.0) or math.dist(obj.position[::2], holder.position[::2]) < 1.5:
                continue
            text = choose(rng, phrasing(PICK_DROP_TEMPLATES, domain), p=p_expr, r=r_expr)
            subgoals = [
                Subgoal("pick", target=obj.id, radius=1.0, description=f"pick up {p_expr}"),
                Subgoal("place", target=obj.id, receptacle=holder.id, radius=1.0,
                        description=f"drop {p_expr} on {r_expr}"),
            ]
            return TaskDraft("pick_drop", text, subgoals, start, {"object": obj.id, "receptacle": holder.id})
    raise Rejected("no uniquely named object / receptacle pair")
