"""Where blind walks end: the fixed-endpoint geometry of closed-loop reach goals.

A policy that never looks plays a fixed sequence of actions. Where no move is refused (no
collision) it ends at a *fixed* point of the start pose's egocentric ground frame (``forward``,
``left``; :func:`~embodied_gym.sims.geometry.egocentric`), whatever the house. So the share of a
suite's reach goals that one disc of the success radius holds, in that frame, bounds what any
fixed action sequence scores on the episodes where it does not collide; and no suite whose
goals cluster there (a basic target drawn "in view, ahead, a few metres away") can keep blind
walks near chance by keeping targets clear of a finite list of walkers.

The success test of a reach subgoal is the backend's geodesic distance (``shortest_path``
between the grid cells nearest the agent and the target) within ``radius``; the path starts at
the agent's cell and ends at the target's *goal point* (the last waypoint of
``shortest_path``, the navigable cell the backend snaps the target to). So an agent succeeds
only within ``radius`` plus half a grid cell's diagonal (:func:`endpoint_radius`) of the goal
point, straight line: discs of that radius around the goal points in the egocentric frame are
what this module counts (:func:`disc_cover`, exact: the best disc has two points on its rim or
is centred on one). The generators' control (:class:`EndpointSpread`) and the audit's
``fixed_endpoint`` baselines use these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..sims.base import Pose, Simulator
from ..sims.geometry import egocentric

EPS = 1e-9


def goal_point(sim: Simulator, start: Pose, point: Sequence[float]) -> tuple[float, float] | None:
    """The ``(x, z)`` the backend's geodesic distance from ``start`` to ``point`` ends at (the last
    waypoint of :meth:`~embodied_gym.sims.base.Simulator.shortest_path`), ``None`` when unreachable."""
    path = sim.shortest_path(start, point)
    return (float(path[-1][0]), float(path[-1][1])) if path else None


def endpoint_radius(sim: Simulator, radius: float) -> float:
    """The straight-line radius around a goal point outside which a reach goal of ``radius`` never
    succeeds: ``radius`` plus half the diagonal of a navigation grid cell (the agent's own snap)."""
    return float(radius) + float(sim.grid_size) * math.sqrt(0.5)


def egocentric_goal(sim: Simulator, start: Pose, point: Sequence[float]) -> tuple[float, float] | None:
    """:func:`goal_point` of ``point`` in the egocentric frame of ``start`` (``(forward, left)``)."""
    g = goal_point(sim, start, point)
    return None if g is None else egocentric(start, g)


def candidate_centres(points: np.ndarray, radius: float) -> np.ndarray:
    """Candidate disc centres: every point, and the two centres of the discs with two points on
    the rim for every pair at most ``2 * radius`` apart."""
    out = [points]
    n = len(points)
    if n >= 2:
        i, j = np.triu_indices(n, 1)
        a, b = points[i], points[j]
        d = np.linalg.norm(b - a, axis=1)
        ok = (d > EPS) & (d <= 2 * radius + EPS)
        a, b, d = a[ok], b[ok], d[ok]
        mid = (a + b) / 2
        h = np.sqrt(np.maximum(radius**2 - (d / 2) ** 2, 0.0))
        perp = np.column_stack([-(b - a)[:, 1], (b - a)[:, 0]]) / d[:, None]
        out += [mid + perp * h[:, None], mid - perp * h[:, None]]
    return np.concatenate(out) if n else np.zeros((0, 2))


def disc_count(points: Sequence[Sequence[float]], centre: Sequence[float], radius: float) -> int:
    """How many of ``points`` lie in the closed disc of ``radius`` around ``centre``."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    return int(np.count_nonzero(np.linalg.norm(p - np.asarray(centre, dtype=float), axis=1) <= radius + 1e-6))


def disc_cover(points: Sequence[Sequence[float]], radius: float) -> tuple[int, tuple[float, float]]:
    """The most ``points`` one disc of ``radius`` holds, and a centre of such a disc (exact;
    ties: the first candidate centre, so the answer is deterministic). ``(0, (0, 0))`` for no points."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(p) == 0:
        return 0, (0.0, 0.0)
    c = candidate_centres(p, radius)
    counts = (np.linalg.norm(c[:, None, :] - p[None, :, :], axis=2) <= radius + 1e-6).sum(axis=1)
    k = int(np.argmax(counts))
    return int(counts[k]), (float(c[k, 0]), float(c[k, 1]))


@dataclass
class EndpointSpread:
    """The generators' control of one split's category: accepted goal points (egocentric) such
    that no disc of ``radius`` holds more than ``cap`` of them. Deterministic: the points are
    added in generation order."""

    #: straight-line radius of the discs (:func:`endpoint_radius` of the subgoal radius)
    radius: float
    #: the most accepted points one disc may hold
    cap: int
    points: list[tuple[float, float]] = field(default_factory=list)

    def admits(self, point: Sequence[float]) -> bool:
        """Whether adding ``point`` keeps every disc of :attr:`radius` at :attr:`cap` points or
        fewer (only discs through ``point`` can change, so only its neighbours are counted)."""
        q = np.asarray(point, dtype=float).reshape(2)
        near = [p for p in self.points if math.dist(p, q) <= 2 * self.radius + 1e-6]
        if len(near) < self.cap:
            return True
        return disc_cover(near + [tuple(q)], self.radius)[0] <= self.cap

    def add(self, point: Sequence[float]) -> None:
        self.points.append((float(point[0]), float(point[1])))
