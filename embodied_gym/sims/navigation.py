"""The one navigation grid of the package (:class:`OccupancyGrid`), used by every layer.

:class:`OccupancyGrid` holds a boolean grid of navigable cell centres (``free[row, col]`` is the
cell at ``x = x0 + col * cell``, ``z = z0 + row * cell``). It answers the navigation queries of
:class:`embodied_gym.sims.base.Simulator`: reachable positions (the connected component of a
position), shortest paths (8-connected A* without corner cutting, then shortened by
line-of-sight "string pulling" so lengths approach true geodesics) and geodesic distances; and
the planner's queries: geodesic distance fields to a goal (Dijkstra on the same graph), their
bilinear reading between cells, and the "all four corners free" reading of a point.

Backends build the grid from geometry with :func:`~embodied_gym.sims.geometry.free_mask`: a cell
is free when a disc of the agent's radius centred on it lies inside the walkable area and
touches no wall segment and no obstacle rectangle -- the same predicate the backend uses to
accept or refuse a move, so paths and motion agree. Layers above ``sims/`` build it from
``Simulator.reachable_positions()`` with :meth:`OccupancyGrid.from_cells`; exploration coverage
(:mod:`embodied_gym.rewards.coverage`) is a view of such a grid (a seen mask over its cells).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence

import numpy as np

SQRT2 = math.sqrt(2.0)
#: shortest paths kept per grid (oldest dropped first)
PATH_CACHE = 4096
#: grid spacing assumed for a grid of fewer than two distinct coordinates on both axes (metres;
#: the spacing of the house backend's grid and of AI2-THOR's default ``gridSize``)
DEFAULT_SPACING = 0.25


def grid_spacing(cells: np.ndarray) -> float:
    """The spacing of a regular grid given its ``N x 2`` cell centres: the smallest gap (above
    1e-6) between distinct ``x`` or ``z`` coordinates (rounded to 1e-6), else
    :data:`DEFAULT_SPACING`."""
    cells = np.asarray(cells, dtype=np.float64).reshape(-1, 2)
    gaps: list[float] = []
    for col in (0, 1):
        vals = np.unique(np.round(cells[:, col], 6)) if len(cells) else np.array([])
        if len(vals) > 1:
            d = np.diff(vals)
            d = d[d > 1e-6]
            if len(d):
                gaps.append(float(d.min()))
    return min(gaps) if gaps else DEFAULT_SPACING


class OccupancyGrid:
    """A navigable-cell grid with path queries. ``free`` is ``rows x cols`` bool."""

    def __init__(self, free: np.ndarray, origin: tuple[float, float], cell: float):
        self.free = np.asarray(free, dtype=bool)
        self.x0, self.z0 = float(origin[0]), float(origin[1])
        self.cell = float(cell)
        self.rows, self.cols = self.free.shape
        self._components: np.ndarray | None = None
        #: (start cell, goal cell, smooth) -> waypoint cells; the grid never changes, so paths are kept
        self._paths: dict[tuple[tuple[int, int], tuple[int, int], bool], list[tuple[int, int]]] = {}
        #: goal (x, z) rounded to 0.1 mm -> distance field
        self._fields: dict[tuple[float, float], np.ndarray] = {}

    @classmethod
    def from_cells(cls, cells: np.ndarray, spacing: float | None = None) -> OccupancyGrid:
        """The grid whose free cells are the ``N x 2`` ``(x, z)`` centres ``cells`` (e.g.
        ``Simulator.reachable_positions()``, AI2-THOR's ``GetReachablePositions``): origin at
        their minimum, ``spacing`` guessed by :func:`grid_spacing` unless given (off-lattice float
        noise is rounded away). No cells give a one-cell grid with nothing free (every query
        answers "unreachable")."""
        cells = np.asarray(cells, dtype=np.float64).reshape(-1, 2)
        step = float(spacing) if spacing else grid_spacing(cells)
        if len(cells) == 0:
            return cls(np.zeros((1, 1), dtype=bool), (0.0, 0.0), step)
        origin = cells.min(axis=0)
        idx = np.rint((cells - origin) / step).astype(np.int64)
        free = np.zeros((int(idx[:, 1].max()) + 1, int(idx[:, 0].max()) + 1), dtype=bool)
        free[idx[:, 1], idx[:, 0]] = True
        return cls(free, (float(origin[0]), float(origin[1])), step)

    @classmethod
    def from_predicate(
        cls,
        bounds: tuple[float, float, float, float],
        cell: float,
        predicate: Callable[[np.ndarray], np.ndarray],
    ) -> OccupancyGrid:
        """Grid over ``bounds`` ``(min_x, min_z, max_x, max_z)`` with cell centres on multiples
        of ``cell``; ``predicate(points N x 2) -> N bools`` says which centres are free."""
        x0 = math.ceil(bounds[0] / cell - 1e-9) * cell
        z0 = math.ceil(bounds[1] / cell - 1e-9) * cell
        cols = int(math.floor((bounds[2] - x0) / cell + 1e-9)) + 1
        rows = int(math.floor((bounds[3] - z0) / cell + 1e-9)) + 1
        xs = x0 + np.arange(cols) * cell
        zs = z0 + np.arange(rows) * cell
        gx, gz = np.meshgrid(xs, zs)
        pts = np.stack([gx.ravel(), gz.ravel()], axis=1)
        free = predicate(pts).reshape(rows, cols)
        return cls(free, (x0, z0), cell)

    # -- coordinates -------------------------------------------------------------------------
    def to_cell(self, x: float, z: float) -> tuple[int, int]:
        """The ``(row, col)`` of the cell whose centre is nearest ``(x, z)`` (may lie outside)."""
        return (int(round((z - self.z0) / self.cell)), int(round((x - self.x0) / self.cell)))

    def cells_of(self, points: np.ndarray) -> np.ndarray:
        """``N x 2`` integer ``(row, col)`` of the cells nearest ``N x 2`` ``(x, z)`` points."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.stack([np.rint((pts[:, 1] - self.z0) / self.cell), np.rint((pts[:, 0] - self.x0) / self.cell)],
                        axis=1).astype(np.int64)

    def to_world(self, rc: tuple[int, int]) -> tuple[float, float]:
        """The ``(x, z)`` centre of cell ``rc``."""
        return (self.x0 + rc[1] * self.cell, self.z0 + rc[0] * self.cell)

    def inside(self, rc: tuple[int, int]) -> bool:
        """Whether cell ``rc`` (``(row, col)``) lies on the grid."""
        return 0 <= rc[0] < self.rows and 0 <= rc[1] < self.cols

    def is_free(self, rc: tuple[int, int]) -> bool:
        """Whether cell ``rc`` lies on the grid and is free."""
        return self.inside(rc) and bool(self.free[rc])

    def positions(self, mask: np.ndarray | None = None) -> np.ndarray:
        """``N x 2`` world ``(x, z)`` of the free cells (or of ``mask``), row-major order."""
        rr, cc = np.nonzero(self.free if mask is None else mask)
        return np.stack([self.x0 + cc * self.cell, self.z0 + rr * self.cell], axis=1).astype(np.float64)

    def nearest_free(self, x: float, z: float, max_dist: float) -> tuple[int, int] | None:
        """The free cell nearest to ``(x, z)`` within ``max_dist`` metres (ties: row-major)."""
        r, c = self.to_cell(x, z)
        k = int(math.ceil(max_dist / self.cell)) + 1
        r0, r1, c0, c1 = max(r - k, 0), min(r + k + 1, self.rows), max(c - k, 0), min(c + k + 1, self.cols)
        if r0 >= r1 or c0 >= c1:
            return None
        sub = self.free[r0:r1, c0:c1]
        rr, cc = np.nonzero(sub)
        if len(rr) == 0:
            return None
        wx = self.x0 + (cc + c0) * self.cell
        wz = self.z0 + (rr + r0) * self.cell
        d = np.hypot(wx - x, wz - z)
        i = int(np.argmin(d))
        if d[i] > max_dist + 1e-9:
            return None
        return (int(rr[i] + r0), int(cc[i] + c0))

    def nearest(self, x: float, z: float) -> tuple[int, int]:
        """The free cell nearest to ``(x, z)`` at any distance (ties: row-major, as
        :meth:`nearest_free`). Raises ``ValueError`` when no cell is free."""
        rr, cc = np.nonzero(self.free)
        if len(rr) == 0:
            raise ValueError("the grid has no free cell")
        px, pz = self.x0 + cc * self.cell, self.z0 + rr * self.cell
        k = int(np.argmin((px - x) ** 2 + (pz - z) ** 2))
        return (int(rr[k]), int(cc[k]))

    # -- reading points between cells ----------------------------------------------------------
    def _fractional(self, x: float, z: float) -> tuple[float, float]:
        return ((z - self.z0) / self.cell, (x - self.x0) / self.cell)

    def corners(self, x: float, z: float) -> list[tuple[int, int]] | None:
        """The cells at the corners of the grid square holding ``(x, z)`` (one or two on a grid
        line or point); ``None`` when the square leaves the grid."""
        fr, fc = self._fractional(x, z)
        r0, c0 = math.floor(fr + 1e-9), math.floor(fc + 1e-9)
        out = []
        for c in (c0, c0 + 1):
            for r in (r0, r0 + 1):
                if not (0 <= r < self.rows and 0 <= c < self.cols):
                    if abs(fr - round(fr)) < 1e-6 and r == r0 + 1:
                        continue
                    if abs(fc - round(fc)) < 1e-6 and c == c0 + 1:
                        continue
                    return None
                out.append((r, c))
        return out

    def square_free(self, x: float, z: float) -> bool:
        """Whether every corner cell of the grid square holding ``(x, z)`` is free: a
        conservative reading of the grid that keeps a point inside the free space it samples."""
        corners = self.corners(x, z)
        return corners is not None and all(self.free[c] for c in corners)

    def distance_field(self, goal: Sequence[float]) -> np.ndarray:
        """Geodesic distance (metres) from every cell to ``goal`` ``(x, z)`` over the 8-connected
        no-corner-cutting graph (Dijkstra from the free cell :meth:`nearest` the goal); ``inf``
        where unreachable. Kept per goal (rounded to 0.1 mm)."""
        key = (round(float(goal[0]), 4), round(float(goal[1]), 4))
        if key in self._fields:
            return self._fields[key]
        src = self.nearest(*key)
        dist = np.full(self.free.shape, np.inf)
        dist[src] = 0.0
        heap = [(0.0, src)]
        while heap:
            d, (r, c) = heapq.heappop(heap)
            if d > dist[r, c]:
                continue
            for rr, cc, w in self._neighbours(r, c):
                nd = d + w * self.cell
                if nd < dist[rr, cc]:
                    dist[rr, cc] = nd
                    heapq.heappush(heap, (nd, (rr, cc)))
        self._fields[key] = dist
        return dist

    def value(self, field: np.ndarray, x: float, z: float) -> float:
        """``field`` (one value per cell) at ``(x, z)``: bilinear over the corners of its grid
        square when all are free, else the nearest free cell's value plus the straight distance
        to it."""
        corners = self.corners(x, z)
        fr, fc = self._fractional(x, z)
        if corners is not None and all(self.free[c] for c in corners):
            total = wsum = 0.0
            for r, c in corners:
                w = max(0.0, 1 - abs(fc - c)) * max(0.0, 1 - abs(fr - r))
                if w > 0:
                    total += w * field[r, c]
                    wsum += w
            if wsum > 0 and math.isfinite(total):
                return total / wsum
        rc = self.nearest(x, z)
        cx, cz = self.to_world(rc)
        return float(field[rc]) + math.hypot(cx - x, cz - z)

    # -- connectivity ------------------------------------------------------------------------
    def _neighbours(self, r: int, c: int):
        free = self.free
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < self.rows and 0 <= cc < self.cols and free[rr, cc]:
                yield rr, cc, 1.0
        for dr, dc in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            rr, cc = r + dr, c + dc
            if (
                0 <= rr < self.rows
                and 0 <= cc < self.cols
                and free[rr, cc]
                and free[r + dr, c]
                and free[r, c + dc]
            ):
                yield rr, cc, SQRT2

    def components(self) -> np.ndarray:
        """Label of the connected component of every cell (``-1`` for blocked cells).

        Components are numbered ``0, 1, ...`` in row-major order of their first cell. A diagonal
        step needs both orthogonal cells free (no corner cutting), so the 8-connected graph of
        :meth:`_neighbours` has exactly the components of 4-connectivity; they are found by
        union-find over the horizontal runs of free cells of each row (runs of adjacent rows
        that share a column are joined)."""
        if self._components is None:
            free = self.free
            labels = np.full(free.shape, -1, dtype=np.int32)
            runs: list[tuple[int, int, int]] = []  # (row, first col, end col) in row-major order
            row_runs: list[list[int]] = []  # run indices of each row
            pad = np.zeros((self.rows, 1), dtype=np.int8)
            edges = np.diff(np.concatenate([pad, free.astype(np.int8), pad], axis=1), axis=1)
            for r in range(self.rows):
                starts = np.flatnonzero(edges[r] == 1)
                ends = np.flatnonzero(edges[r] == -1)
                row_runs.append(list(range(len(runs), len(runs) + len(starts))))
                runs.extend((r, int(a), int(b)) for a, b in zip(starts, ends, strict=True))
            parent = list(range(len(runs)))

            def find(i: int) -> int:
                while parent[i] != i:
                    parent[i] = parent[parent[i]]
                    i = parent[i]
                return i

            for r in range(1, self.rows):
                above, here = row_runs[r - 1], row_runs[r]
                i = j = 0
                while i < len(above) and j < len(here):  # both sorted by column: merge-walk
                    _, a0, a1 = runs[above[i]]
                    _, b0, b1 = runs[here[j]]
                    if a0 < b1 and b0 < a1:  # the runs share a column
                        ra, rb = find(above[i]), find(here[j])
                        if ra != rb:
                            parent[max(ra, rb)] = min(ra, rb)
                    if a1 <= b1:
                        i += 1
                    else:
                        j += 1
            number: dict[int, int] = {}
            for k, (r, a, b) in enumerate(runs):  # first run of a component = its first cell
                labels[r, a:b] = number.setdefault(find(k), len(number))
            self._components = labels
        return self._components

    def reachable_from(self, x: float, z: float, snap: float = 0.5) -> np.ndarray:
        """``N x 2`` free positions connected to ``(x, z)`` (empty when no free cell is within
        ``snap`` metres)."""
        rc = self.nearest_free(x, z, snap)
        if rc is None:
            return np.zeros((0, 2))
        labels = self.components()
        return self.positions(labels == labels[rc])

    # -- paths -------------------------------------------------------------------------------
    def astar(self, start: tuple[int, int], goal: tuple[int, int]) -> list[tuple[int, int]]:
        """Cells of a shortest 8-connected path from ``start`` to ``goal`` (``[]`` if none)."""
        if not (self.is_free(start) and self.is_free(goal)):
            return []
        labels = self.components()
        if labels[start] != labels[goal]:
            return []
        gr, gc = goal

        def h(r: int, c: int) -> float:
            dr, dc = abs(r - gr), abs(c - gc)
            return (dr + dc) + (SQRT2 - 2.0) * min(dr, dc)

        g = {start: 0.0}
        came: dict[tuple[int, int], tuple[int, int]] = {}
        heap = [(h(*start), 0.0, start)]
        closed: set[tuple[int, int]] = set()
        while heap:
            _, gcost, cur = heapq.heappop(heap)
            if cur == goal:
                break
            if cur in closed:
                continue
            closed.add(cur)
            for rr, cc, w in self._neighbours(*cur):
                nxt = (rr, cc)
                ng = gcost + w
                if ng < g.get(nxt, math.inf) - 1e-12:
                    g[nxt] = ng
                    came[nxt] = cur
                    heapq.heappush(heap, (ng + h(rr, cc), ng, nxt))
        if goal not in g:
            return []
        path = [goal]
        while path[-1] != start:
            path.append(came[path[-1]])
        return path[::-1]

    def line_of_sight(self, a: tuple[int, int], b: tuple[int, int]) -> bool:
        """Whether the straight segment between two cell centres stays on free cells (sampled at
        a quarter cell; a sample between cells needs all the cells it touches free)."""
        (r0, c0), (r1, c1) = a, b
        n = int(max(abs(r1 - r0), abs(c1 - c0)) * 4) + 1
        t = np.linspace(0.0, 1.0, n + 1)
        r, c = r0 + (r1 - r0) * t, c0 + (c1 - c0) * t
        rows = np.concatenate([np.floor(r + 1e-9), np.ceil(r - 1e-9)]).astype(np.int64)
        cols = np.concatenate([np.floor(c + 1e-9), np.ceil(c - 1e-9)]).astype(np.int64)
        rr = np.concatenate([rows, rows])  # every (row, col) pair touched by each sample
        cc = np.concatenate([cols[: n + 1], cols[: n + 1], cols[n + 1:], cols[n + 1:]])
        if rr.min() < 0 or cc.min() < 0 or rr.max() >= self.rows or cc.max() >= self.cols:
            return False
        return bool(self.free[rr, cc].all())

    def smooth(self, cells: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Drop waypoints whose neighbours see each other (greedy string pulling)."""
        if len(cells) <= 2:
            return list(cells)
        out = [cells[0]]
        i = 0
        while i < len(cells) - 1:
            j = len(cells) - 1
            while j > i + 1 and not self.line_of_sight(cells[i], cells[j]):
                j -= 1
            out.append(cells[j])
            i = j
        return out

    def shortest_path(
        self, start: Sequence[float], goal: Sequence[float], snap: float = 0.5, smooth: bool = True
    ) -> list[tuple[float, float]]:
        """World waypoints from the free cell nearest ``start`` to the free cell nearest ``goal``
        (each within ``snap`` metres); ``[]`` when either has no free cell in range or they are
        not connected. Paths are computed once per (start cell, goal cell) and kept on the grid."""
        s = self.nearest_free(start[0], start[1], snap)
        g = self.nearest_free(goal[0], goal[1], snap)
        if s is None or g is None:
            return []
        key = (s, g, bool(smooth))
        cells = self._paths.get(key)
        if cells is None:
            cells = self.astar(s, g)
            if cells and smooth:
                cells = self.smooth(cells)
            if len(self._paths) >= PATH_CACHE:
                self._paths.pop(next(iter(self._paths)))
            self._paths[key] = cells
        return [self.to_world(rc) for rc in cells]
