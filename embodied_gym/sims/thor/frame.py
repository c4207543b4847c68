"""AI2-THOR poses <-> the simulator frame: the ONE place THOR coordinates are converted.

AI2-THOR (Unity): metres, **left-handed**, ``y`` up; ``x`` right and ``z`` forward when the
agent's ``rotation.y`` is ``0``; ``rotation.y`` (degrees) turns **clockwise** seen from above
(``90`` faces ``+x``); ``cameraHorizon`` is positive looking **down**. The default agent's
``position.y`` is its capsule centre, :data:`AGENT_ORIGIN_HEIGHT` above the floor.

The simulator frame (:mod:`embodied_gym.sims.base`): metres, right-handed, ``y`` up, yaw
counter-clockwise from ``+x`` (forward ``(cos yaw, 0, -sin yaw)``), pitch positive looking up;
``Pose.y`` is the floor under the agent. The mapping, exact and invertible::

    x = x_thor      y = y_thor      z = -z_thor
    yaw = 90 - rotation.y (mod 360)    pitch = -cameraHorizon
    Pose.y = agent position.y - AGENT_ORIGIN_HEIGHT

Mirroring ``z`` turns the left-handed frame into a right-handed one; THOR's forward
``(sin r, cos r)`` in ``(x, z_thor)`` becomes ``(sin r, -cos r)`` = ``(cos yaw, -sin yaw)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..base import Pose

AGENT_ORIGIN_HEIGHT = 0.9009995
"""Height of the default THOR agent's ``position.y`` above the floor it stands on (metres)."""


def position_from_thor(p: Mapping[str, Any]) -> tuple[float, float, float]:
    """A THOR ``{"x", "y", "z"}`` point -> simulator ``(x, y, z)``."""
    return (float(p["x"]), float(p["y"]), -float(p["z"]))


def position_to_thor(x: float, y: float, z: float) -> dict[str, float]:
    """Simulator ``(x, y, z)`` -> a THOR ``{"x", "y", "z"}`` point. Inverse of :func:`position_from_thor`."""
    return {"x": float(x), "y": float(y), "z": -float(z)}


def size_from_thor(s: Mapping[str, Any]) -> tuple[float, float, float]:
    """A THOR box size ``{"x", "y", "z"}`` (extents are unsigned) -> ``(sx, sy, sz)``."""
    return (abs(float(s["x"])), abs(float(s["y"])), abs(float(s["z"])))


def yaw_from_rotation(rotation_y: float) -> float:
    """THOR ``rotation.y`` -> simulator yaw in ``[0, 360)``."""
    return (90.0 - float(rotation_y)) % 360.0


def rotation_from_yaw(yaw: float) -> float:
    """Simulator yaw -> THOR ``rotation.y`` in ``[0, 360)``. Inverse of :func:`yaw_from_rotation`."""
    return (90.0 - float(yaw)) % 360.0


def pitch_from_horizon(horizon: float) -> float:
    return -float(horizon)


def horizon_from_pitch(pitch: float) -> float:
    return -float(pitch)


def pose_from_agent(agent: Mapping[str, Any]) -> Pose:
    """The ``metadata["agent"]`` of a THOR event as a :class:`Pose`."""
    x, y, z = position_from_thor(agent["position"])
    return Pose(x, y - AGENT_ORIGIN_HEIGHT, z, yaw_from_rotation(agent["rotation"]["y"]),
                pitch_from_horizon(agent["cameraHorizon"]))


def teleport_args(pose: Pose) -> dict[str, Any]:
    """Arguments of THOR's ``TeleportFull`` placing the agent at ``pose``."""
    return {
        "position": position_to_thor(pose.x, pose.y + AGENT_ORIGIN_HEIGHT, pose.z),
        "rotation": {"x": 0.0, "y": rotation_from_yaw(pose.yaw), "z": 0.0},
        "horizon": horizon_from_pitch(pose.pitch),
        "standing": True,
    }


def xz_from_thor(x: float, z: float) -> tuple[float, float]:
    """A THOR ground point ``(x, z)`` (room polygons, reachable positions) -> simulator ``(x, z)``."""
    return (float(x), -float(z))


def positions_from_thor(points: Sequence[Mapping[str, Any]]) -> list[tuple[float, float]]:
    """THOR's ``GetReachablePositions`` list -> simulator ``(x, z)`` points."""
    return [xz_from_thor(p["x"], p["z"]) for p in points]
