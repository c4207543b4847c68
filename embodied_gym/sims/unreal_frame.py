"""Unreal Engine poses <-> the simulator frame: the ONE place Unreal units are converted.

Everything that reads or writes an Unreal pose (the EmbRACE-3K importer, the ``unrealcv``
backend) goes through these functions; nothing else multiplies by 100 or flips a yaw.

Unreal (and UnrealCV, and EmbRACE-3K's ``infos.json``):

* locations in **centimetres**, left-handed, ``Z`` up, ``X`` forward, ``Y`` right;
* rotations in degrees as ``(pitch, yaw, roll)``; ``yaw`` turns from ``+X`` towards ``+Y``
  (clockwise seen from above), ``pitch`` is positive looking up;
* EmbRACE-3K writes a pose as one list ``[X, Y, Z, pitch, yaw, roll]``.

The simulator frame (:mod:`embodied_gym.sims.base`): metres, right-handed, ``y`` up, ground
plane ``(x, z)``, ``yaw`` counter-clockwise seen from above with ``0`` facing ``+x`` (forward
``(cos yaw, 0, -sin yaw)``), ``pitch`` positive looking up.

The mapping, exact and invertible (up to the dropped roll)::

    x = X / 100        y = Z / 100        z = Y / 100
    yaw = -Yaw (wrapped to [-180, 180))    pitch = Pitch

Swapping ``Y`` and ``Z`` turns the left-handed frame into a right-handed one, and Unreal's forward
``(cos Yaw, sin Yaw)`` in ``(X, Y)`` becomes ``(cos yaw, -sin yaw)`` in ``(x, z)`` with
``yaw = -Yaw``: walking forward moves the same way in both frames. ``roll`` has no place in
:class:`~embodied_gym.sims.base.Pose` (cameras do not roll in these tasks); :func:`unreal_roll`
returns it for callers that keep it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .base import Pose

CM_PER_M = 100.0
"""Unreal units (centimetres) per metre."""


def wrap_degrees(angle: float) -> float:
    """``angle`` wrapped to ``[-180, 180)``."""
    return (float(angle) + 180.0) % 360.0 - 180.0


def _finite(values: Sequence[float], n: int, what: str) -> list[float]:
    try:
        vals = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected {n} numbers, got {values!r}") from None
    if len(vals) != n or not all(math.isfinite(v) for v in vals):
        raise ValueError(f"{what}: expected {n} finite numbers, got {list(values)!r}")
    return vals


def location_from_unreal(location: Sequence[float]) -> tuple[float, float, float]:
    """Unreal ``[X, Y, Z]`` (cm) -> simulator ``(x, y, z)`` (m, ``y`` up)."""
    X, Y, Z = _finite(location, 3, "Unreal location [X, Y, Z]")
    return (X / CM_PER_M, Z / CM_PER_M, Y / CM_PER_M)


def location_to_unreal(x: float, y: float, z: float) -> tuple[float, float, float]:
    """Simulator ``(x, y, z)`` (m) -> Unreal ``[X, Y, Z]`` (cm). Inverse of :func:`location_from_unreal`."""
    return (float(x) * CM_PER_M, float(z) * CM_PER_M, float(y) * CM_PER_M)


def rotation_from_unreal(pitch: float, yaw: float, roll: float = 0.0) -> tuple[float, float]:
    """Unreal ``(pitch, yaw, roll)`` -> simulator ``(yaw, pitch)`` in degrees (roll dropped)."""
    p, y, _ = _finite((pitch, yaw, roll), 3, "Unreal rotation [pitch, yaw, roll]")
    return (wrap_degrees(-y), p)


def rotation_to_unreal(yaw: float, pitch: float, roll: float = 0.0) -> tuple[float, float, float]:
    """Simulator ``(yaw, pitch)`` -> Unreal ``(pitch, yaw, roll)``. Inverse of :func:`rotation_from_unreal`."""
    return (float(pitch), wrap_degrees(-float(yaw)), float(roll))


def pose_from_unreal(values: Sequence[float]) -> Pose:
    """An EmbRACE-3K / Unreal pose ``[X, Y, Z, pitch, yaw, roll]`` (cm, degrees) as a :class:`Pose`.

    Raises ``ValueError`` naming the value unless it is 6 finite numbers (callers add the file and
    field)."""
    X, Y, Z, pitch, yaw, roll = _finite(values, 6, "Unreal pose [X, Y, Z, pitch, yaw, roll]")
    x, y, z = location_from_unreal((X, Y, Z))
    sim_yaw, sim_pitch = rotation_from_unreal(pitch, yaw, roll)
    return Pose(x, y, z, sim_yaw, sim_pitch)


def pose_to_unreal(pose: Pose, roll: float = 0.0) -> list[float]:
    """A :class:`Pose` as Unreal ``[X, Y, Z, pitch, yaw, roll]``. Inverse of :func:`pose_from_unreal`."""
    X, Y, Z = location_to_unreal(pose.x, pose.y, pose.z)
    pitch, yaw, r = rotation_to_unreal(pose.yaw, pose.pitch, roll)
    return [X, Y, Z, pitch, yaw, r]


def unreal_roll(values: Sequence[float]) -> float:
    """The roll (degrees) of an Unreal pose ``[X, Y, Z, pitch, yaw, roll]``."""
    return _finite(values, 6, "Unreal pose [X, Y, Z, pitch, yaw, roll]")[5]


def distance_to_unreal(metres: float) -> float:
    """A length in metres as Unreal centimetres."""
    return float(metres) * CM_PER_M


def distance_from_unreal(cm: float) -> float:
    """A length in Unreal centimetres as metres."""
    return float(cm) / CM_PER_M
