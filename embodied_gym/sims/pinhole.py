"""Pinhole projection in the simulator frame, for backends whose renderer is a remote process
(``thor``, ``unrealcv``): the camera pose and vertical field of view come from the simulator,
the projection is computed here with the conventions of :mod:`embodied_gym.sims.base`.

A point maps to pixel ``(u, v)`` with ``u`` growing to the right and ``v`` downwards; the
centre of pixel ``(i, j)`` is ``(i + 0.5, j + 0.5)``.
"""

from __future__ import annotations

import math

import numpy as np


def camera_basis(yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(forward, right, up)`` unit vectors of a camera with heading ``yaw`` and ``pitch``
    (degrees; :class:`~embodied_gym.sims.base.Pose` conventions: right-handed, ``y`` up)."""
    y, p = math.radians(yaw), math.radians(pitch)
    forward = np.array([math.cos(p) * math.cos(y), math.sin(p), -math.cos(p) * math.sin(y)])
    right = np.array([math.sin(y), 0.0, math.cos(y)])
    up = np.cross(right, forward)
    return forward, right, up


def project_points(
    points: np.ndarray,
    eye: tuple[float, float, float],
    yaw: float,
    pitch: float,
    fov_y: float,
    width: int,
    height: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``N x 2`` of world ``points`` (``N x 3``) and a boolean ``N`` mask of the
    points in front of the camera (more than 1 cm ahead)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3) - np.asarray(eye, dtype=np.float64)
    forward, right, up = camera_basis(yaw, pitch)
    z = pts @ forward
    f = (height / 2.0) / math.tan(math.radians(fov_y) / 2.0)
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    u = width / 2.0 + f * (pts @ right) / safe
    v = height / 2.0 - f * (pts @ up) / safe
    return np.stack([u, v], axis=1), z > 0.01
