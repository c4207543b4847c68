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

SQRT2 = math.sqrt(2.0)


FINE = 0.05
"""Spacing (metres) of the raster sampled from a backend's own free-space predicate."""


class NavGrid:
    """Occupancy grid built from a backend's reachable grid points.

    ``free`` (optional) is the backend's own vectorised "can the agent stand at these ``(x, z)``
    points" predicate (``N x 2 -> N`` bools); when given, :meth:`navigable` reads a
    :data:`FINE` raster of it (a point is navigable when the four raster points around it are
    free) instead of the coarse reachable grid, which lets plans pass doorways only a little
    wider than the agent."""

    def __init__(self, cells: np.ndarray, free: Callable[[np.ndarray], np.ndarray] | None = None):
        cells = np.asarray(cells, dtype=float).reshape(-1, 2)
        if len(cells) == 0:
            raise ValueError("reachable_positions() returned no navigable position")
        self.spacing = _grid_spacing(cells)
        self.origin = cells.min(axis=0)
        idx = np.round((cells - self.origin) / self.spacing).astype(int)
        self.shape = (int(idx[:, 0].max()) + 1, int(idx[:, 1].max()) + 1)
        self.free = np.zeros(self.shape, dtype=bool)
        self.free[idx[:, 0], idx[:, 1]] = True
        self._fields: dict[tuple[float, float], np.ndarray] = {}
        self.fine: np.ndarray | None = None
        if free is not None:
            lo = self.origin - 2 * self.spacing
            hi = self.origin + (np.array(self.shape) + 1) * self.spacing
            self.fine_origin = lo
            nx, nz = (int(math.ceil((hi[k] - lo[k]) / FINE)) + 1 for k in (0, 1))
            gx, gz = np.meshgrid(lo[0] + np.arange(nx) * FINE, lo[1] + np.arange(nz) * FINE, indexing="ij")
            pts = np.stack([gx.ravel(), gz.ravel()], axis=1)
            chunks = [np.asarray(free(pts[k : k + 16384]), dtype=bool) for k in range(0, len(pts), 16384)]
            self.fine = np.concatenate(chunks).reshape(nx, nz)

    # -- geometry ----------------------------------------------------------------------------
    def _fractional(self, x: float, z: float) -> tuple[float, float]:
        return ((x - self.origin[0]) / self.spacing, (z - self.origin[1]) / self.spacing)

    def _corners(self, x: float, z: float) -> list[tuple[int, int]] | None:
        fi, fj = self._fractional(x, z)
        i0, j0 = math.floor(fi + 1e-9), math.floor(fj + 1e-9)
        out = []
        for i in (i0, i0 + 1):
            for j in (j0, j0 + 1):
                if not (0 <= i < self.shape[0] and 0 <= j < self.shape[1]):
                    if abs(fi - round(fi)) < 1e-6 and i == i0 + 1:
                        continue
                    if abs(fj - round(fj)) < 1e-6 and j == j0 + 1:
                        continue
                    return None
                out.append((i, j))
        return out

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
        corners = self._corners(x, z)
        return corners is not None and all(self.free[c] for c in corners)

    def nearest_cell(self, x: float, z: float) -> tuple[int, int]:
        """The reachable grid cell nearest to ``(x, z)`` (Euclidean)."""
        ii, jj = np.nonzero(self.free)
        px = self.origin[0] + ii * self.spacing
        pz = self.origin[1] + jj * self.spacing
        k = int(np.argmin((px - x) ** 2 + (pz - z) ** 2))
        return (int(ii[k]), int(jj[k]))

    def cell_xz(self, cell: tuple[int, int]) -> tuple[float, float]:
        return (float(self.origin[0] + cell[0] * self.spacing), float(self.origin[1] + cell[1] * self.spacing))

    # -- distance fields ---------------------------------------------------------------------
    def field_to(self, goal: Sequence[float]) -> np.ndarray:
        """Geodesic distance (metres) from every grid cell to ``goal`` ``(x, z)``: Dijkstra from
        the reachable cell nearest the goal (backends snap goals to the grid the same way);
        ``inf`` where unreachable."""
        key = (round(float(goal[0]), 4), round(float(goal[1]), 4))
        if key in self._fields:
            return self._fields[key]
        src = self.nearest_cell(*key)
        dist = np.full(self.shape, np.inf)
        dist[src] = 0.0
        heap = [(dist[src], src)]
        steps = [(di, dj, self.spacing * (SQRT2 if di and dj else 1.0)) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]
        free, (ni, nj) = self.free, self.shape
        while heap:
            d, (i, j) = heapq.heappop(heap)
            if d > dist[i, j]:
                continue
            for di, dj, w in steps:
                a, b = i + di, j + dj
                if 0 <= a < ni and 0 <= b < nj and free[a, b]:
                    if di and dj and not (free[i + di, j] and free[i, j + dj]):
                        continue  # no corner cutting
                    nd = d + w
                    if nd < dist[a, b]:
                        dist[a, b] = nd
                        heapq.heappush(heap, (nd, (a, b)))
        self._fields[key] = dist
        return dist

    def value(self, field: np.ndarray, x: float, z: float) -> float:
        """``field`` at ``(x, z)``: bilinear over the surrounding cells, else the nearest cell."""
        corners = self._corners(x, z)
        fi, fj = self._fractional(x, z)
        if corners is not None and all(self.free[c] for c in corners):
            total = wsum = 0.0
            for i, j in corners:
                w = max(0.0, 1 - abs(fi - i)) * max(0.0, 1 - abs(fj - j))
                if w > 0:
                    total += w * field[i, j]
                    wsum += w
            if wsum > 0 and math.isfinite(total):
                return total / wsum
        c = self.nearest_cell(x, z)
        cx, cz = self.cell_xz(c)
        return float(field[c]) + math.hypot(cx - x, cz - z)


def _grid_spacing(cells: np.ndarray) -> float:
    best = math.inf
    for axis in (0, 1):
        vals = np.unique(np.round(cells[:, axis], 4))
        if len(vals) > 1:
            best = min(best, float(np.min(np.diff(vals))))
    return best if math.isfinite(best) else 0.25


# ---------------------------------------------------------------------------------------------
# lattice search


def wrap180(angle: float) -> float:
    """``angle`` in degrees wrapped to ``(-180, 180]``."""
    a = (angle + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def bearing(pose: Pose, point: Sequence[float]) -> float:
    """Yaw (degrees) the agent at ``pose`` would need to face ``point`` (``(x, y, z)`` or ``(x, z)``)."""
    px, pz = (point[0], point[2]) if len(point) >= 3 else (point[0], point[1])
    return math.degrees(math.atan2(-(pz - pose.z), px - pose.x))


def relative_bearing(pose: Pose, point: Sequence[float]) -> float:
    """Angle (degrees) from the agent's heading to ``point``: positive means to the left."""
    return wrap180(bearing(pose, point) - pose.yaw)


@dataclass
class Plan:
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
