"""Where the oracle can act from: geometric tests shared by its goal predicates.

Everything reads the simulator interface; where a backend exposes more exact geometry (the house
backend's ``world.free`` free-space test and ``world.surfaces`` receptacle tops) it is used, with
an interface-only fallback otherwise.
"""

from __future__ import annotations

import math

from ..sims.base import Observation, Pose, RoomInfo, Simulator


def pitch_toward(sim: Simulator, pose: Pose, target) -> float:
    """The multiple of ``sim.look_step`` nearest the elevation of ``target``'s centre as seen
    from the camera (level when the target is near the horizon)."""
    cam = sim.camera_height
    horiz = max(0.05, math.hypot(target.position[0] - pose.x, target.position[2] - pose.z))
    elev = math.degrees(math.atan2(target.position[1] + 0.5 * target.size[1] - cam, horiz))
    if abs(elev) < 20.0:
        return 0.0
    limit = sim.max_pitch
    return max(-limit, min(limit, round(elev / sim.look_step) * sim.look_step))


def free_predicate(sim: Simulator):
    """The backend's own "can the agent stand here" test when it offers one (``navigable`` on
    the simulator, or the house backend's world geometry); ``None`` -> the grid's estimate."""
    fn = getattr(sim, "navigable", None)
    if callable(fn):
        return fn
    world = getattr(sim, "world", None)
    fn = getattr(world, "free", None)
    return fn if callable(fn) else None


def footprint(o) -> tuple[float, float, float, float]:
    x, _, z = o.position
    sx, _, sz = o.size
    return (x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)


def surfaces(sim: Simulator, obs: Observation) -> list[tuple[int, tuple[float, float, float, float]]]:
    """Receptacle tops ``(id, (x0, z0, x1, z1))``: the backend's own surfaces when it exposes
    them (the house backend's desk top and chair seat are smaller than their footprints), else
    the footprints from ``ObjectInfo.size``."""
    own = getattr(getattr(sim, "world", None), "surfaces", None)
    if isinstance(own, dict) and own:
        return [(int(i), tuple(float(v) for v in r)) for i, r in sorted(own.items())]  # type: ignore[misc]
    return [(i, footprint(o)) for i, o in sorted(obs.objects.items()) if o.receptacle]


def drop_hits(p: Pose, receptacles: list[tuple[int, tuple[float, float, float, float]]], reach: float) -> int | None:
    """The receptacle a drop from ``p`` lands on: the first whose top (3 cm inset) the heading
    ray meets between 0.3 m and ``reach`` (the house backend's rule)."""
    fx, _, fz = p.forward
    d = 0.3
    while d <= reach + 1e-9:
        x, z = p.x + d * fx, p.z + d * fz
        for rid, (x0, z0, x1, z1) in receptacles:
            if x0 + 0.03 <= x <= x1 - 0.03 and z0 + 0.03 <= z <= z1 - 0.03:
                return rid
        d += 0.05
    return None


def room_of_point(sim: Simulator, obs: Observation, focus: int | None, point) -> RoomInfo | None:
    """The room the agent must stand in to act on ``focus`` at ``point`` (walls are room
    boundaries); ``None`` when the point lies on a boundary (doors) or in no room."""
    rooms = sim.rooms()
    obj = obs.objects.get(focus) if focus is not None else None
    if obj is not None and obj.room is not None and obj.kind != "door":
        for r in rooms:
            if r.id == obj.room and r.contains(point[0], point[2]):
                return r
    inside = [r for r in rooms if r.contains(point[0], point[2])]
    return inside[0] if len(inside) == 1 else None
