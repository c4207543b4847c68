"""Ground-plane geometry every layer shares: headings, path lengths, rooms, doors, drops.

One definition each (the issue "one concept, one implementation"); all work on the interface's
records (:class:`~embodied_gym.sims.base.Pose`, :class:`~embodied_gym.sims.base.RoomInfo`,
:class:`~embodied_gym.sims.base.ObjectInfo`), never on a backend's internals. Conventions are
those of :mod:`embodied_gym.sims.base`: the ground plane is ``(x, z)``, ``yaw`` is
counter-clockwise seen from above with ``0`` facing ``+x`` and forward ``(cos yaw, -sin yaw)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .base import ObjectInfo, Pose, RoomInfo

#: metres a door's position may lie outside a room's footprint and still join that room (door
#: records of some backends sit in the door panel, a few centimetres off the wall line)
DOOR_MARGIN = 0.15
#: where a drop's heading ray starts, its step, and the inset of a receptacle top it must hit
DROP_RAY_START, DROP_RAY_STEP, DROP_INSET = 0.3, 0.05, 0.03


# ---------------------------------------------------------------------------------------------
# angles


def wrap180(angle: float) -> float:
    """``angle`` in degrees wrapped to ``(-180, 180]``."""
    a = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def _xz(point: Sequence[float]) -> tuple[float, float]:
    """``(x, z)`` of an ``(x, z)`` or ``(x, y, z, ...)`` sequence."""
    return (float(point[0]), float(point[2])) if len(point) >= 3 else (float(point[0]), float(point[1]))


def heading(a: Sequence[float], b: Sequence[float]) -> float:
    """Yaw in degrees (``(-180, 180]``) of the direction from ``a`` to ``b`` (each ``(x, z)`` or
    ``(x, y, z)``): the yaw an agent at ``a`` needs to face ``b``."""
    ax, az = _xz(a)
    bx, bz = _xz(b)
    return math.degrees(math.atan2(-(bz - az), bx - ax))


def bearing(pose: Pose, point: Sequence[float]) -> float:
    """Yaw (degrees) the agent at ``pose`` would need to face ``point`` (``(x, y, z)`` or ``(x, z)``)."""
    return heading((pose.x, pose.z), point)


def relative_bearing(pose: Pose, point: Sequence[float]) -> float:
    """Angle (degrees, ``(-180, 180]``) from the agent's heading to ``point``: ``0`` straight
    ahead, positive to the left."""
    return wrap180(bearing(pose, point) - pose.yaw)


def egocentric(pose: Pose, point: Sequence[float]) -> tuple[float, float]:
    """``(forward, left)`` metres of ``point`` (``(x, z)`` or ``(x, y, z)``) in the ground frame
    of ``pose``: ``forward`` along the heading, ``left`` to its left (positive where
    :func:`relative_bearing` is positive)."""
    px, pz = _xz(point)
    dx, dz = px - pose.x, pz - pose.z
    r = math.radians(pose.yaw)
    return (dx * math.cos(r) - dz * math.sin(r), -dx * math.sin(r) - dz * math.cos(r))


# ---------------------------------------------------------------------------------------------
# paths


def path_length(path: Iterable[Sequence[float]]) -> float:
    """Length in metres of a polyline of ``(x, z)`` points: the sum of its segments (``0`` for
    fewer than two points). An *unreachable* goal is not a path: queries that can fail say so
    themselves (:meth:`Simulator.geodesic_distance` returns ``inf`` for an empty path)."""
    pts = [(float(p[0]), float(p[1])) for p in path]
    return float(sum(math.dist(a, b) for a, b in zip(pts, pts[1:], strict=False)))


# ---------------------------------------------------------------------------------------------
# rooms and doors


class _HasBounds(Protocol):
    def contains(self, x: float, z: float) -> bool: ...


R = TypeVar("R", bound=_HasBounds)


def rooms_at(rooms: Iterable[R], x: float, z: float) -> list[R]:
    """Every room whose footprint (edges included) contains ``(x, z)``, in the given order (two
    on a shared wall, e.g. at a doorway)."""
    return [r for r in rooms if r.contains(x, z)]


def room_at(rooms: Iterable[R], x: float, z: float) -> R | None:
    """The first room whose footprint (edges included) contains ``(x, z)``, or ``None``."""
    for r in rooms:
        if r.contains(x, z):
            return r
    return None


def room_of(obj: ObjectInfo, rooms: Sequence[RoomInfo]) -> RoomInfo | None:
    """The room holding ``obj``: its own ``room`` field when that names one of ``rooms``, else
    the room whose footprint contains its position."""
    if obj.room is not None:
        for r in rooms:
            if r.id == obj.room:
                return r
    return room_at(rooms, obj.position[0], obj.position[2])


def door_rooms(door: ObjectInfo, rooms: Sequence[RoomInfo], margin: float = DOOR_MARGIN) -> list[RoomInfo]:
    """The rooms a door (or any opening record) joins: those whose footprint grown by ``margin``
    metres contains its position, in the given order. A door on a shared wall gives two."""
    x, z = door.position[0], door.position[2]
    out = []
    for r in rooms:
        x0, z0, x1, z1 = r.bounds
        if x0 - margin <= x <= x1 + margin and z0 - margin <= z <= z1 + margin:
            out.append(r)
    return out


def footprint(obj: ObjectInfo) -> tuple[float, float, float, float]:
    """Axis-aligned ``(x0, z0, x1, z1)`` of an object from its position and world-axis size."""
    x, _, z = obj.position
    sx, _, sz = obj.size
    return (x - sx / 2, z - sz / 2, x + sx / 2, z + sz / 2)


# ---------------------------------------------------------------------------------------------
# drops


def drop_ray(
    pose: Pose,
    reach: float,
    surface_at: Callable[[float, float], int | None],
    blocked: Callable[[float, float], bool] | None = None,
) -> tuple[float, float, int] | None:
    """Where ``DropObject`` from ``pose`` lands on a receptacle: walk the heading ray from
    :data:`DROP_RAY_START` to ``reach`` metres in :data:`DROP_RAY_STEP` steps and return
    ``(x, z, receptacle id)`` of the first sample ``surface_at(x, z)`` puts on a receptacle top;
    ``None`` when none does before ``reach`` or before ``blocked(x, z)`` (a wall) stops the ray."""
    fx, _, fz = pose.forward
    n = math.ceil((reach + 1e-9 - DROP_RAY_START) / DROP_RAY_STEP)  # numpy.arange's count
    for k in range(max(0, n)):
        d = DROP_RAY_START + k * DROP_RAY_STEP
        x, z = pose.x + d * fx, pose.z + d * fz
        if blocked is not None and blocked(x, z):
            return None
        rid = surface_at(x, z)
        if rid is not None:
            return (x, z, rid)
    return None


def surface_at(
    surfaces: Mapping[int, tuple[float, float, float, float]], x: float, z: float, inset: float = DROP_INSET
) -> int | None:
    """Id of the receptacle whose top rectangle ``(x0, z0, x1, z1)``, shrunk by ``inset``,
    contains ``(x, z)``; on overlaps the one whose rectangle centre is nearest."""
    best, best_d = None, math.inf
    for i, (x0, z0, x1, z1) in surfaces.items():
        if x0 + inset <= x <= x1 - inset and z0 + inset <= z <= z1 - inset:
            d = math.hypot(x - (x0 + x1) / 2.0, z - (z0 + z1) / 2.0)
            if d < best_d:
                best, best_d = i, d
    return best


# ---------------------------------------------------------------------------------------------
# distances and free space (vectorised)


def segment_distances(points: np.ndarray, segs: np.ndarray) -> np.ndarray:
    """Distances ``N x M`` from ``points`` (``N x 2``) to segments ``segs`` (``M x 2 x 2``)."""
    if len(segs) == 0:
        return np.full((len(points), 0), np.inf)
    # per coordinate (no N x M x 2 temporaries); the same operations in the same order as the
    # vector form (dot products x-term + z-term, then sqrt of the summed squares), so bit-identical
    ax, az = segs[:, 0, 0], segs[:, 0, 1]
    abx, abz = segs[:, 1, 0] - ax, segs[:, 1, 1] - az
    px, pz = points[:, 0:1], points[:, 1:2]
    t = np.clip(((px - ax) * abx + (pz - az) * abz) / np.maximum(abx * abx + abz * abz, 1e-12), 0.0, 1.0)
    dx, dz = px - (ax + t * abx), pz - (az + t * abz)
    return np.sqrt(dx * dx + dz * dz)


def rect_distances(points: np.ndarray, rects: np.ndarray) -> np.ndarray:
    """Distances ``N x M`` from ``points`` to axis-aligned rectangles ``(x0, z0, x1, z1)``
    (``0`` inside)."""
    if len(rects) == 0:
        return np.full((len(points), 0), np.inf)
    px, pz = points[:, 0:1], points[:, 1:2]
    dx = np.maximum(np.maximum(rects[None, :, 0] - px, px - rects[None, :, 2]), 0.0)
    dz = np.maximum(np.maximum(rects[None, :, 1] - pz, pz - rects[None, :, 3]), 0.0)
    return np.hypot(dx, dz)


def free_mask(
    points: np.ndarray,
    radius: float,
    walkable: np.ndarray,
    segments: np.ndarray,
    rects: np.ndarray,
) -> np.ndarray:
    """Which ``points`` can hold a disc of ``radius``: inside ``walkable`` (``N`` bools given by
    the caller), at least ``radius`` from every segment and outside every rectangle grown by
    ``radius``. Distances are computed only for the points still in the running."""
    ok = np.array(walkable, dtype=bool)
    if len(segments):
        idx = np.flatnonzero(ok)
        ok[idx] = segment_distances(points[idx], segments).min(axis=1) >= radius
    if len(rects):
        idx = np.flatnonzero(ok)
        ok[idx] = rect_distances(points[idx], rects).min(axis=1) >= radius
    return ok
