"""Names, high-level steps and route descriptions for BEAR questions, from simulator state.

Every phrase is derived from ``sim.objects()`` / ``sim.rooms()`` / ``sim.shortest_path``; nothing
is hand-written per episode. Names are checked for uniqueness so that a question has exactly one
referent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ...sims import geometry
from ...sims.base import ObjectInfo, RoomInfo
from ...sims.geometry import door_rooms, room_at
from ...sims.naming import noun
from ..generators.common import room_of
from ..spec import Subgoal
from .options import direction_word, relative_angle


def room_label(room: RoomInfo, rooms: Sequence[RoomInfo]) -> str:
    """``"kitchen"``, or the room's own name when several rooms share its kind."""
    same = [r for r in rooms if r.kind == room.kind]
    base = room.kind.replace("_", " ")
    if len(same) == 1:
        return base
    name = (room.name or "").replace("_", " ").strip()
    if name and sum(1 for r in rooms if (r.name or "").replace("_", " ").strip() == name) == 1:
        return name
    return f"{base} {same.index(room) + 1}"


def _in_room(obj: ObjectInfo, room: RoomInfo | None, rooms: Sequence[RoomInfo]) -> bool:
    r = room_of(obj, rooms)
    return room is not None and r is not None and r.id == room.id


def name_of(obj: ObjectInfo, objects: Mapping[int, ObjectInfo], rooms: Sequence[RoomInfo]) -> str | None:
    """A house-wide unique name without article (``"yellow duck"``, ``"desk in the bedroom"``,
    ``"door between the hallway and the office"``), or ``None`` when none is unique."""
    if obj.kind == "door":
        joined = door_rooms(obj, rooms)
        if len(joined) != 2:
            return None
        labels = sorted(room_label(r, rooms) for r in joined)
        ids = {r.id for r in joined}
        twins = [d for d in objects.values() if d.kind == "door" and {r.id for r in door_rooms(d, rooms)} == ids]
        if len(twins) != 1:
            return None
        return f"door between the {labels[0]} and the {labels[1]}"
    same = [o for o in objects.values() if o.kind == obj.kind and o.category == obj.category]
    room = room_of(obj, rooms)
    if obj.kind == "object":
        if obj.color and sum(1 for o in same if o.color == obj.color) == 1:
            return f"{obj.color} {noun(obj, color=False)}"
        if room is not None:
            here = [o for o in same if _in_room(o, room, rooms) and o.color == obj.color]
            if len(here) == 1:
                return f"{obj.color + ' ' if obj.color else ''}{noun(obj, color=False)} in the {room_label(room, rooms)}"
        return None
    if len(same) == 1:
        return noun(obj, color=False)
    if room is not None and sum(1 for o in same if _in_room(o, room, rooms)) == 1:
        return f"{noun(obj, color=False)} in the {room_label(room, rooms)}"
    return None


# ---------------------------------------------------------------------------------------------
# high-level steps


def step_phrase(subgoal: Subgoal, names: Mapping[int, str]) -> str:
    """The imperative high-level step of one subgoal: ``"go to the desk in the bedroom"``,
    ``"pick up the yellow duck"``, ``"put the yellow duck on the desk in the bedroom"``,
    ``"open the door between the hallway and the office"``."""
    t = names.get(subgoal.target or -1, "target")
    if subgoal.type == "reach_object":
        return f"go to the {t}"
    if subgoal.type == "pick":
        return f"pick up the {t}"
    if subgoal.type == "open":
        return f"open the {t}"
    if subgoal.type == "place":
        return f"put the {t} on the {names.get(subgoal.receptacle or -1, 'receptacle')}"
    return subgoal.description or subgoal.type


def sequence_phrase(steps: Sequence[str]) -> str:
    """``"1. go to the duck; 2. pick up the duck"``."""
    return "; ".join(f"{i + 1}. {s}" for i, s in enumerate(steps))


# ---------------------------------------------------------------------------------------------
# routes


def _simplify(path: Sequence[Sequence[float]], tol_deg: float = 20.0) -> list[tuple[float, float]]:
    pts = [(float(p[0]), float(p[1])) for p in path]
    out: list[tuple[float, float]] = []
    for p in pts:
        if out and math.dist(out[-1], p) < 1e-6:
            continue
        out.append(p)
    changed = True
    while changed and len(out) > 2:
        changed = False
        for i in range(1, len(out) - 1):
            a, b, c = out[i - 1], out[i], out[i + 1]
            h1 = geometry.heading(a, b)
            h2 = geometry.heading(b, c)
            turn = (h2 - h1 + 180) % 360 - 180
            if abs(turn) < tol_deg or math.dist(a, b) < 0.3:
                del out[i]
                changed = True
                break
    return out


def _turn_word(angle: float) -> str | None:
    """The instruction for a heading change (degrees, positive = left); ``None`` for straight."""
    if abs(angle) < 30:
        return None
    if abs(angle) > 150:
        return "turn around to the left" if angle > 0 else "turn around to the right"
    return "turn left" if angle > 0 else "turn right"


def route_clauses(
    path: Sequence[Sequence[float]],
    yaw: float,
    objects: Mapping[int, ObjectInfo],
    rooms: Sequence[RoomInfo],
    names: Mapping[int, str],
    goal_id: int,
    *,
    max_clauses: int = 5,
    skip: Sequence[int] = (),
) -> list[str]:
    """Describe a shortest path from the agent's heading ``yaw``: turns (relative to the current
    heading), doorways crossed (with the room entered), furniture passed within 1.2 m, and the
    goal. Returns the clauses, e.g. ``["turn left", "pass the sofa", "go through the doorway into
    the kitchen", "stop at the counter"]``. Furniture in ``skip`` is never mentioned as passed."""
    pts = _simplify(path)
    clauses: list[str] = []
    if len(pts) < 2:
        return [f"stop at the {names.get(goal_id, 'target')}"]
    heading = yaw
    passed: set[int] = {goal_id, *skip}
    for i in range(len(pts) - 1):
        a, b = pts[i], pts[i + 1]
        seg_heading = geometry.heading(a, b)
        word = _turn_word(relative_angle(a, heading, b))
        if word:
            clauses.append(word)
        heading = seg_heading
        # doorways and furniture along this segment, in order of travel
        n = max(2, int(math.dist(a, b) / 0.1))
        ra = room_at(rooms, a[0], a[1])
        for k in range(1, n + 1):
            x = a[0] + (b[0] - a[0]) * k / n
            z = a[1] + (b[1] - a[1]) * k / n
            r = room_at(rooms, x, z)
            if r is not None and ra is not None and r.id != ra.id:
                clauses.append(f"go through the doorway into the {room_label(r, rooms)}")
                ra = r
            for oid in sorted(objects):
                o = objects[oid]
                if o.kind != "furniture" or oid in passed or oid not in names:
                    continue
                if math.hypot(o.position[0] - x, o.position[2] - z) < 1.2:
                    passed.add(oid)
                    clauses.append(f"pass the {names[oid]}")
    # collapse repeats, keep the last clauses (nearest the goal) when too long
    compact: list[str] = []
    for c in clauses:
        if not compact or compact[-1] != c:
            compact.append(c)
    while len(compact) > max_clauses - 1 and any(c.startswith("pass the ") for c in compact):
        drop = max(i for i, c in enumerate(compact) if c.startswith("pass the "))
        del compact[drop]
    compact = compact[: max_clauses - 1]
    compact.append(f"stop at the {names.get(goal_id, 'target')}")
    return compact


def mirror_route(clauses: Sequence[str]) -> list[str]:
    """The same route with every left and right swapped."""
    return [c.replace("left", "\0").replace("right", "left").replace("\0", "right") for c in clauses]


def describe_direction(agent_xz: Sequence[float], yaw: float, target_xz: Sequence[float]) -> tuple[str, float]:
    """The direction word of a target seen from the agent, with the raw angle (degrees)."""
    ang = relative_angle(agent_xz, yaw, target_xz)
    return direction_word(ang), ang
