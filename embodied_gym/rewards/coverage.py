"""Exploration coverage: the share of the navigable area the agent has seen.

Definition (docs/TASKS.md): the navigable area is the grid of cells returned by the
simulator's ``reachable_positions()``. A cell counts as *seen* once, at some step, it was

1. inside the camera's horizontal field of view: the cell centre projects in front of the
   camera with ``0 <= u < width`` (``v`` is ignored, so cells below the image's bottom edge
   still count: we measure the area the agent has looked across, not the floor pixels);
2. within ``view_distance`` metres (Euclidean, ground plane) of the agent; and
3. not occluded: the straight ground-plane segment from the agent to the cell stays on
   *transparent* grid cells. Transparent cells are the navigable cells of the current door
   state plus, when the backend reports rooms, every grid point inside a room more than one cell
   from the room's edges (so furniture, which the camera sees over, does not occlude). Walls,
   closed doors and everything outside the rooms block the line of sight; doorways are clear
   only where navigable. The segment is sampled every half cell and each sample rounds to its
   grid cell, so grazing a wall corner or a doorway's side may count as occluded.

Coverage is ``seen cells / navigable cells``, in ``[0, 1]``. :class:`CoverageGrid` is a view of the
package's one navigation grid (:class:`~embodied_gym.sims.navigation.OccupancyGrid` built from the
navigable cells): a *seen* mask over its cells and a *transparent* mask over its grid points.
Everything here is numpy on arrays handed in by the caller; the environment supplies ``project``
results from the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..sims.navigation import OccupancyGrid


def in_view(
    uv: np.ndarray, in_front: np.ndarray, width: int, distances: np.ndarray, view_distance: float
) -> np.ndarray:
    """Boolean mask of cells inside the horizontal field of view and within ``view_distance``."""
    u = uv[:, 0]
    return np.asarray(in_front, bool) & (u >= 0) & (u < width) & (distances <= view_distance)


class CoverageGrid:
    """Navigable cells of one scene and the set of those seen so far: a view of the navigation
    grid ``grid`` (:meth:`OccupancyGrid.from_cells` of ``cells``).

    ``cells``: ``N x 2`` navigable ``(x, z)`` centres (the coverage denominator; ``seen[k]`` is
    cell ``k``). ``transparent``: navigable cells the line of sight may cross (default:
    ``cells``); update with :meth:`set_transparent` when doors open or close. ``rooms``: room
    footprints ``(min_x, min_z, max_x, max_z)``; grid points deeper than one cell inside a room
    are always transparent (furniture does not occlude). ``open`` is indexed like
    ``grid.free`` (``[row, col]``, row along ``z``)."""

    def __init__(
        self,
        cells: np.ndarray,
        transparent: np.ndarray | None = None,
        spacing: float | None = None,
        rooms: Sequence[Sequence[float]] = (),
    ):
        self.cells = np.asarray(cells, dtype=np.float64).reshape(-1, 2)
        self.grid = OccupancyGrid.from_cells(self.cells, spacing)
        self.spacing = self.grid.cell
        self.origin = np.array([self.grid.x0, self.grid.z0])
        self.shape = self.grid.free.shape
        self.seen = np.zeros(len(self.cells), dtype=bool)
        self.interior = self._interior(rooms)
        self.set_transparent(self.cells if transparent is None else transparent)

    def _interior(self, rooms: Sequence[Sequence[float]]) -> np.ndarray:
        """Grid points more than one cell inside some room."""
        rr, cc = np.meshgrid(np.arange(self.shape[0]), np.arange(self.shape[1]), indexing="ij")
        x, z = self.origin[0] + cc * self.spacing, self.origin[1] + rr * self.spacing
        inside = np.zeros(self.shape, dtype=bool)
        m = self.spacing + 1e-6
        for x0, z0, x1, z1 in rooms:
            inside |= (x > x0 + m) & (x < x1 - m) & (z > z0 + m) & (z < z1 - m)
        return inside

    def _index(self, points: np.ndarray) -> np.ndarray:
        """``(..., 2)`` integer ``(row, col)`` of the grid points nearest ``(..., 2)`` ``(x, z)``."""
        pts = np.asarray(points, dtype=np.float64)
        rows = np.rint((pts[..., 1] - self.origin[1]) / self.spacing)
        cols = np.rint((pts[..., 0] - self.origin[0]) / self.spacing)
        return np.stack([rows, cols], axis=-1).astype(np.int64)

    def set_transparent(self, cells: np.ndarray) -> None:
        """Cells the line of sight may cross (the navigable cells of the current door state)."""
        self.open = self.interior.copy()
        idx = self._index(np.asarray(cells, dtype=np.float64).reshape(-1, 2))
        ok = (idx >= 0).all(axis=1) & (idx[:, 0] < self.shape[0]) & (idx[:, 1] < self.shape[1])
        self.open[idx[ok, 0], idx[ok, 1]] = True

    def _transparent_at(self, points: np.ndarray) -> np.ndarray:
        idx = self._index(points)
        i, j = idx[..., 0], idx[..., 1]
        ok = (i >= 0) & (j >= 0) & (i < self.shape[0]) & (j < self.shape[1])
        # points off the grid read cell (0, 0) and are masked out (no boolean-mask gathers)
        return self.open[np.where(ok, i, 0), np.where(ok, j, 0)] & ok

    def line_of_sight(self, origin: Sequence[float], targets: np.ndarray) -> np.ndarray:
        """For each ``(x, z)`` target, whether the segment from ``origin`` stays on transparent
        cells (samples every half cell, skipping the first cell around the origin)."""
        targets = np.asarray(targets, dtype=np.float64).reshape(-1, 2)
        if not len(targets):
            return np.zeros(0, dtype=bool)
        o = np.asarray(origin, dtype=np.float64)[:2]
        delta = targets - o
        dist = np.hypot(delta[:, 0], delta[:, 1])
        n = max(2, int(math.ceil(float(dist.max()) / (self.spacing / 2.0))) + 1)
        t = np.linspace(0.0, 1.0, n)
        pts = o + t[None, :, None] * delta[:, None, :]  # M x n x 2
        sample_d = t[None, :] * dist[:, None]
        check = sample_d > self.spacing  # skip the agent's own cell
        clear = self._transparent_at(pts) | ~check
        return clear.all(axis=1)

    def observe(
        self, agent_xz: Sequence[float], uv: np.ndarray, in_front: np.ndarray, width: int, view_distance: float
    ) -> int:
        """Mark cells seen from ``agent_xz`` given the camera projection of every cell
        (``uv``/``in_front`` from ``Simulator.project``); returns how many were newly seen."""
        d = np.hypot(self.cells[:, 0] - agent_xz[0], self.cells[:, 1] - agent_xz[1])
        cand = np.flatnonzero(in_view(uv, in_front, width, d, view_distance) & ~self.seen)
        if not len(cand):
            return 0
        visible = cand[self.line_of_sight(agent_xz, self.cells[cand])]
        self.seen[visible] = True
        return int(len(visible))

    @property
    def coverage(self) -> float:
        """Share of navigable cells seen, in ``[0, 1]`` (``0`` for an empty grid)."""
        return float(self.seen.mean()) if len(self.seen) else 0.0
