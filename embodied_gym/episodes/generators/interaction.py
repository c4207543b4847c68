"""Interaction task generators: ``open_door`` ("open the door to the office") and ``pick_drop``
("pick up the red key and drop it on the desk in the office")."""

from __future__ import annotations

import math
import random

import numpy as np

from ...sims.base import ObjectInfo, RoomInfo, Simulator
from ..spec import Subgoal
from .common import (
    Rejected,
    TaskDraft,
    approach_distance,
    choose,
    items,
    room_of,
    room_phrase,
    sample_start_pose,
    unique_expression,
    unique_room_kinds,
)

ATTEMPTS = 12

OPEN_TEMPLATES = (
    "open the door to the {room}.",
    "go to the door leading into the {room} and open it.",
    "find the door to the {room} and open it.",
    "walk up to the {room} door and open it.",
    "the {room} is closed off; open its door.",
)
OPEN_BETWEEN_TEMPLATES = (
    "open the door between the {a} and the {b}.",
    "find the door that connects the {a} and the {b}, and open it.",
    "go to the door between the {a} and the {b} and open it.",
)
PICK_DROP_TEMPLATES = (
    "pick up {p} and drop it on {r}.",
    "take {p} and put it on {r}.",
    "grab {p}, carry it to {r} and drop it there.",
    "bring {p} to {r} and place it on top.",
    "move {p} onto {r}.",
)


def door_rooms(door: ObjectInfo, rooms: list[RoomInfo]) -> list[RoomInfo]:
    """The rooms a door connects: those whose footprint (inclusive) contains its position."""
    return [r for r in rooms if r.contains(door.position[0], door.position[2])]


def generate_open_door(sim: Simulator, rng: random.Random) -> TaskDraft:
    """A closed door reachable from a start in one of its rooms; named by the room behind it
    (when that room's kind is unique and it has no other door) or by the two rooms it joins."""
    objects, rooms = sim.objects(), sim.rooms()
    named = unique_room_kinds(rooms)
    doors = [d for d in items(objects, "door") if d.openable and not d.is_open]
    if not doors:
        raise Rejected("no closed door")
    cells = np.asarray(sim.reachable_positions(), dtype=float)
    for _ in range(ATTEMPTS):
        door = rng.choice(doors)
        joined = door_rooms(door, rooms)
        if len(joined) != 2:
            continue
        sides = [r for r in joined if any(r.contains(float(x), float(z)) for x, z in cells)]
        if not sides:
            continue
        near = rng.choice(sides)
        far = joined[1] if near is joined[0] else joined[0]
        try:
            start = sample_start_pose(sim, rng, room=near)
        except Rejected:
            continue
        d = approach_distance(sim, start, door, within=0.8)
        if not (1.5 <= d <= 9.0):
            continue
        doors_of_far = [o for o in doors if far in door_rooms(o, rooms)]
        all_doors_of_far = [o for o in items(objects, "door") if far in door_rooms(o, rooms)]
        if far.id in named and len(all_doors_of_far) == 1 and len(doors_of_far) == 1:
            text = choose(rng, OPEN_TEMPLATES, room=room_phrase(far))
            how = "to_room"
        elif near.id in named and far.id in named:
            between = [o for o in items(objects, "door") if {r.id for r in door_rooms(o, rooms)} == {near.id, far.id}]
            if len(between) != 1:
                continue
            text = choose(rng, OPEN_BETWEEN_TEMPLATES, a=room_phrase(near), b=room_phrase(far))
            how = "between"
        else:
            continue
        subgoal = Subgoal("open", target=door.id, radius=1.0, description=f"open the door to the {room_phrase(far)}")
        return TaskDraft("open_door", text, [subgoal], start, {"door_rooms": [near.id, far.id], "naming": how})
    raise Rejected("no closed door that can be named uniquely and reached")


def generate_pick_drop(sim: Simulator, rng: random.Random) -> TaskDraft:
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
            text = choose(rng, PICK_DROP_TEMPLATES, p=p_expr, r=r_expr)
            subgoals = [
                Subgoal("pick", target=obj.id, radius=1.0, description=f"pick up {p_expr}"),
                Subgoal("place", target=obj.id, receptacle=holder.id, radius=1.0,
                        description=f"drop {p_expr} on {r_expr}"),
            ]
            return TaskDraft("pick_drop", text, subgoals, start, {"object": obj.id, "receptacle": holder.id})
    raise Rejected("no uniquely named object / receptacle pair")
