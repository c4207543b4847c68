"""What PickObject, DropObject and OpenDoor do to a :class:`HouseWorld` (pure state changes;
the simulator supplies the pose and the pixel counts of the current frame).

"In reach" means :func:`distance` (from the agent's floor point to the entity's position) is at
most ``reach``; "in view" means the entity has pixels in the current frame's segmentation.
"""

from __future__ import annotations

import math

import numpy as np

from ..base import Pose
from ..geometry import DROP_INSET, drop_ray, rect_distances, segment_distances
from .world import HouseWorld

Result = tuple[bool, "str | None"]


def distance(pose: Pose, pos: np.ndarray) -> float:
    """Euclidean distance from the agent's position on the floor to ``pos``."""
    return math.sqrt((pos[0] - pose.x) ** 2 + pos[1] ** 2 + (pos[2] - pose.z) ** 2)


def pick(world: HouseWorld, pose: Pose, counts: np.ndarray, reach: float, carry_pos: np.ndarray) -> Result:
    """Hold the nearest object in reach and in view."""
    held = world.held_object()
    if held is not None:
        return False, f"already holding {world.entities[held].name}"
    best = None
    for i in world.object_ids:
        e = world.entities[i]
        d = distance(pose, e.pos)
        if counts[i] > 0 and d <= reach and (best is None or d < best[0]):
            best = (d, i)
    if best is None:
        return False, f"no pickable object in view within {reach:g} m"
    e = world.entities[best[1]]
    e.held, e.on = True, None
    e.pos = carry_pos
    return True, None


def receptacle_spot(world: HouseWorld, pose: Pose, reach: float) -> tuple[float, float, int] | None:
    """``(x, z, receptacle id)`` where a drop from ``pose`` lands on a receptacle top: the first
    top the heading ray meets within ``reach`` before any wall or closed door
    (:func:`~embodied_gym.sims.geometry.drop_ray`); ``None`` when it meets none."""
    segs, _ = world.blocking_segments()

    def blocked(x: float, z: float) -> bool:
        return bool(segment_distances(np.array([[x, z]]), segs).min() < 0.05)

    return drop_ray(pose, reach, lambda x, z: world.receptacle_at(x, z, inset=DROP_INSET), blocked)


def drop(world: HouseWorld, pose: Pose, reach: float) -> Result:
    """Put the held object on the first receptacle surface the heading ray meets within reach
    (before any wall or closed door), else on the floor 0.5 m (or 0.4, 0.3 m) ahead."""
    held = world.held_object()
    if held is None:
        return False, "not holding anything"
    e = world.entities[held]
    rad = max(e.extents[0], e.extents[2]) / 2
    fx, _, fz = pose.forward
    segs, _ = world.blocking_segments()
    target = None
    spot = receptacle_spot(world, pose, reach)
    if spot is not None:
        x, z, rid = spot
        target = (x, world.entities[rid].top, z, rid)
    if target is None:
        for d in (0.5, 0.4, 0.3):
            x, z = pose.x + d * fx, pose.z + d * fz
            pt = np.array([[x, z]])
            if not world.walkable(pt)[0] or segment_distances(pt, segs).min() < rad + 0.02:
                continue
            if len(world.furniture_rects) and rect_distances(pt, world.furniture_rects).min() < rad:
                continue
            target = (x, 0.0, z, None)
            break
    if target is None:
        return False, "no free space in front to put the object down"
    x, y, z, rid = target
    e.held, e.on, e.pos, e.yaw = False, rid, np.array([x, y, z]), pose.yaw
    e.room = world.room_at(x, z) or e.room
    return True, None


def open_door(world: HouseWorld, pose: Pose, counts: np.ndarray, reach: float) -> Result:
    """Open the nearest closed door in reach and in view."""
    best = None
    for i in world.door_ids:
        e = world.entities[i]
        d = distance(pose, e.pos)
        if not e.is_open and counts[i] > 0 and d <= reach and (best is None or d < best[0]):
            best = (d, i)
    if best is None:
        return False, f"no closed door in view within {reach:g} m"
    world.entities[best[1]].is_open = True
    return True, None
