"""Motion planning for the oracle over the simulator interface only.

:class:`NavGrid` turns ``sim.reachable_positions()`` (a regular grid of navigable ``(x, z)``
points) into an occupancy grid with geodesic distance fields (Dijkstra, 8-connected). A point is
*navigable* when the four grid points around it are reachable, a conservative reading of the
grid that keeps the agent's centre inside the free space the backend reports.

:func:`plan_actions` searches the agent's discrete action lattice (``TurnLeft``/``TurnRight`` by
``sim.turn_step``, ``MoveForward`` by ``sim.move_step``) with A*, guided by a distance field, for
the shortest action sequence that ends in a pose satisfying a goal predicate (e.g. "within the
success radius and facing the target"). The plan is exact for backends whose moves are the
kinematic ``position + move_step * forward`` and whose turns add ``turn_step`` to the yaw.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..sims.base import Pose
from ..sims.navigation import OccupancyGrid

FINE = 0.05
"""Spacing (metres) of the raster sampled from a backend's own free-space predicate."""


class NavGrid:
    """The oracle's view of the navigation grid (:class:`~embodied_gym.sims.navigation.OccupancyGrid`
    built from a backend's reachable grid points), with the backend's exact free space when known.

    ``free`` (optional) is the backend's own vectorised "can the agent stand at these ``(x, z)``
    points" predicate (``N x 2 -> N`` bools); when given, :meth:`navigable` reads a
    :data:`FINE` raster of it (a point is navigable when the four raster points around it are
    free) instead of the coarse reachable grid, which lets plans pass doorways only a little
    wider than the agent."""

    def __init__(self, cells: np.ndarray, free: Callable[[np.ndarray], np.ndarray] | None = None):
        cells = np.asarray(cells, dtype=float).reshape(-1, 2)
        if len(cells) == 0:
            raise ValueError("reachable_positions() returned no navigable position")
        self.grid = OccupancyGrid.from_cells(cells)
        self.spacing = self.grid.cell
        self.fine: np.ndarray | None = None
        if free is not None:
            g = self.grid
            lo = np.array([g.x0, g.z0]) - 2 * self.spacing
            hi = np.array([g.x0, g.z0]) + (np.array([g.cols, g.rows]) + 1) * self.spacing
            self.fine_origin = lo
            nx, nz = (int(math.ceil((hi[k] - lo[k]) / FINE)) + 1 for k in (0, 1))
            gx, gz = np.meshgrid(lo[0] + np.arange(nx) * FINE, lo[1] + np.arange(nz) * FINE, indexing="ij")
            pts = np.stack([gx.ravel(), gz.ravel()], axis=1)
            chunks = [np.asarray(free(pts[k : k + 16384]), dtype=bool) for k in range(0, len(pts), 16384)]
            self.fine = np.concatenate(chunks).reshape(nx, nz)

    def navigable(self, x: float, z: float) -> bool:
        """Whether ``(x, z)`` lies in a grid square whose corners are all free (the backend's
        raster when available, else the reachable grid)."""
        if self.fine is not None:
            fi, fj = (x - self.fine_origin[0]) / FINE, (z - self.fine_origin[1]) / FINE
            i0, j0 = math.floor(fi), math.floor(fj)
            if not (0 <= i0 and i0 + 1 < self.fine.shape[0] and 0 <= j0 and j0 + 1 < self.fine.shape[1]):
                return False
            f = self.fine
            return bool(f[i0, j0] and f[i0 + 1, j0] and f[i0, j0 + 1] and f[i0 + 1, j0 + 1])
        return self.grid.square_free(x, z)

    def field_to(self, goal: Sequence[float]) -> np.ndarray:
        """Geodesic distance (metres) from every grid cell to ``goal`` ``(x, z)``
        (:meth:`~embodied_gym.sims.navigation.OccupancyGrid.distance_field`)."""
        return self.grid.distance_field(goal)

    def value(self, field: np.ndarray, x: float, z: float) -> float:
        """``field`` at ``(x, z)``: bilinear over the surrounding cells, else the nearest cell."""
        return self.grid.value(field, x, z)


# ---------------------------------------------------------------------------------------------
# lattice search


@dataclass
class Plan:
    """A lattice plan: ``actions`` and the poses they are taken from (``poses[i]`` before
    ``actions[i]``; one pose more than actions)."""

    actions: list[str]
    poses: list[Pose]  # poses[i] is where actions[i] is taken; one more than actions


Goal = Callable[[Pose], bool]


def plan_actions(
    grid: NavGrid,
    start: Pose,
    goal: Goal,
    field: np.ndarray,
    *,
    move_step: float,
    turn_step: float,
    goal_distance: float = 0.0,
    blocked: frozenset[tuple[int, int, int]] = frozenset(),
    max_expansions: int = 60000,
) -> Plan | None:
    """Fewest ``TurnLeft``/``TurnRight``/``MoveForward`` actions from ``start`` to a pose where
    ``goal(pose)`` holds, avoiding moves that leave navigable space and moves out of the
    ``blocked`` pose keys (see :func:`pose_key`). A* with the heuristic
    ``max(0, field - goal_distance) / move_step``. ``None`` when no plan is found."""
    n_dirs = max(1, int(round(360.0 / turn_step)))

    def h(x: float, z: float) -> float:
        return max(0.0, grid.value(field, x, z) - goal_distance) / move_step

    start_node = (start.x, start.z, 0)
    counter = 0
    frontier = [(h(start.x, start.z), 0, counter, start_node)]
    parents: dict[tuple[int, int, int], tuple[tuple[int, int, int] | None, str | None, tuple[float, float, int]]] = {}
    skey = _key(start.x, start.z, 0, n_dirs)
    parents[skey] = (None, None, start_node)
    best_g = {skey: 0}
    expansions = 0
    while frontier and expansions < max_expansions:
        _, g, _, node = heapq.heappop(frontier)
        x, z, k = node
        key = _key(x, z, k, n_dirs)
        if g > best_g.get(key, math.inf):
            continue
        pose = start.with_(x=x, z=z, yaw=(start.yaw + k * turn_step) % 360.0)
        if goal(pose):
            return _unwind(parents, key, start, turn_step)
        expansions += 1
        yaw = math.radians(start.yaw + k * turn_step)
        succ = [("TurnLeft", (x, z, k + 1)), ("TurnRight", (x, z, k - 1))]
        if _abs_key(x, z, start.yaw + k * turn_step) not in blocked:
            nx, nz = x + move_step * math.cos(yaw), z - move_step * math.sin(yaw)
            mx, mz = (x + nx) / 2.0, (z + nz) / 2.0
            if grid.navigable(nx, nz) and grid.navigable(mx, mz):
                succ.append(("MoveForward", (nx, nz, k)))
        for action, nxt in succ:
            nkey = _key(nxt[0], nxt[1], nxt[2], n_dirs)
            if g + 1 < best_g.get(nkey, math.inf):
                best_g[nkey] = g + 1
                parents[nkey] = (key, action, nxt)
                counter += 1
                heapq.heappush(frontier, (g + 1 + h(nxt[0], nxt[1]), g + 1, counter, nxt))
    return None


def _key(x: float, z: float, k: int, n_dirs: int) -> tuple[int, int, int]:
    return (round(x / 0.04), round(z / 0.04), k % n_dirs)


def pose_key(pose: Pose) -> tuple[int, int, int]:
    """A coarse key of a pose (4 cm, whole degrees) used to remember failed actions."""
    return _abs_key(pose.x, pose.z, pose.yaw)


def _abs_key(x: float, z: float, yaw: float) -> tuple[int, int, int]:
    return (round(x / 0.04), round(z / 0.04), int(round(yaw % 360.0)) % 360)


def _unwind(parents, key, start: Pose, turn_step: float) -> Plan:
    actions: list[str] = []
    nodes: list[tuple[float, float, int]] = []
    while True:
        parent, action, node = parents[key]
        nodes.append(node)
        if parent is None:
            break
        actions.append(action)
        key = parent
    actions.reverse()
    nodes.reverse()
    poses = [start.with_(x=x, z=z, yaw=(start.yaw + k * turn_step) % 360.0) for x, z, k in nodes]
    return Plan(actions, poses)
