"""Coverage as a view of the one grid gives exactly what the former standalone coverage grid
gave (its code copied below as the reference), on random grids, doors and cameras. The only
intended difference: a grid with fewer than two distinct coordinates now assumes the navigation
grid's default spacing (0.25 m) instead of 1 m."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from embodied_gym.rewards.coverage import CoverageGrid, in_view


def _ref_spacing(cells: np.ndarray) -> float:
    """The grid step of ``N x 2`` cell centres: the smallest positive gap between distinct
    ``x`` or ``z`` coordinates (``1.0`` for fewer than two distinct values)."""
    gaps: list[float] = []
    for col in (0, 1):
        vals = np.unique(np.round(cells[:, col], 6)) if len(cells) else np.array([])
        if len(vals) > 1:
            d = np.diff(vals)
            d = d[d > 1e-6]
            if len(d):
                gaps.append(float(d.min()))
    return min(gaps) if gaps else 1.0


class ReferenceCoverage:
    """Navigable cells of one scene and the set of those seen so far.

    ``cells``: ``N x 2`` navigable ``(x, z)`` centres (the coverage denominator).
    ``transparent``: navigable cells the line of sight may cross (default: ``cells``); update
    with :meth:`set_transparent` when doors open or close. ``rooms``: room footprints
    ``(min_x, min_z, max_x, max_z)``; grid points deeper than one cell inside a room are always
    transparent (furniture does not occlude)."""

    def __init__(
        self,
        cells: np.ndarray,
        transparent: np.ndarray | None = None,
        spacing: float | None = None,
        rooms: Sequence[Sequence[float]] = (),
    ):
        self.cells = np.asarray(cells, dtype=np.float64).reshape(-1, 2)
        self.spacing = float(spacing) if spacing else _ref_spacing(self.cells)
        self.origin = self.cells.min(axis=0) if len(self.cells) else np.zeros(2)
        self.seen = np.zeros(len(self.cells), dtype=bool)
        idx = self._index(self.cells)
        self.shape = tuple(int(v) + 1 for v in (idx.max(axis=0) if len(idx) else (0, 0)))
        self.interior = self._interior(rooms)
        self.set_transparent(self.cells if transparent is None else transparent)

    def _interior(self, rooms: Sequence[Sequence[float]]) -> np.ndarray:
        """Grid points more than one cell inside some room."""
        ii, jj = np.meshgrid(np.arange(self.shape[0]), np.arange(self.shape[1]), indexing="ij")
        x, z = self.origin[0] + ii * self.spacing, self.origin[1] + jj * self.spacing
        inside = np.zeros(self.shape, dtype=bool)
        m = self.spacing + 1e-6
        for x0, z0, x1, z1 in rooms:
            inside |= (x > x0 + m) & (x < x1 - m) & (z > z0 + m) & (z < z1 - m)
        return inside

    def _index(self, points: np.ndarray) -> np.ndarray:
        return np.rint((np.asarray(points, dtype=np.float64) - self.origin) / self.spacing).astype(np.int64)

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


def test_coverage_view_equals_the_former_coverage_grid():
    rng = np.random.default_rng(3)
    for trial in range(30):
        nx, nz = (int(v) for v in rng.integers(3, 18, size=2))
        xs, zs = np.meshgrid(np.arange(nx), np.arange(nz), indexing="ij")
        keep = rng.random(xs.shape) < 0.75
        cells = np.stack([1.0 + xs[keep] * 0.25, -2.0 + zs[keep] * 0.25], axis=1)
        cells = cells[rng.permutation(len(cells))]
        shut = cells[rng.random(len(cells)) < 0.85]
        rooms = [(1.0, -2.0, 1.0 + nx * 0.125, -2.0 + nz * 0.25), (1.0 + nx * 0.125, -2.0, 1.0 + nx * 0.25, -2.0 + nz * 0.25)]
        new = CoverageGrid(cells, transparent=shut, rooms=rooms[: trial % 3])
        old = ReferenceCoverage(cells, transparent=shut, rooms=rooms[: trial % 3])
        assert new.spacing == old.spacing
        np.testing.assert_array_equal(new.open.T, old.open)
        for _ in range(6):
            agent = cells[rng.integers(len(cells))]
            targets = rng.uniform(cells.min(axis=0) - 1, cells.max(axis=0) + 1, size=(40, 2))
            np.testing.assert_array_equal(new.line_of_sight(agent, targets), old.line_of_sight(agent, targets))
            uv = rng.uniform(-20, 60, size=(len(cells), 2))
            front = rng.random(len(cells)) < 0.8
            assert new.observe(agent, uv, front, 40, 2.5) == old.observe(agent, uv, front, 40, 2.5)
            np.testing.assert_array_equal(new.seen, old.seen)
        assert new.coverage == old.coverage
