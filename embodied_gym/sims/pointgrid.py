"""An :class:`~embodied_gym.sims.navigation.OccupancyGrid` from a simulator's own list of
navigable grid points (AI2-THOR's ``GetReachablePositions``, points probed in Unreal), so the
shared planner answers ``shortest_path`` / ``geodesic_distance`` for those backends too."""

from __future__ import annotations

import numpy as np

from .navigation import OccupancyGrid


def grid_from_positions(positions: np.ndarray, cell: float) -> OccupancyGrid:
    """A grid of spacing ``cell`` whose free cells are exactly ``positions`` (``N x 2`` ``(x, z)``
    on a lattice of that spacing; off-lattice float noise is rounded away)."""
    pts = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return OccupancyGrid(np.zeros((1, 1), dtype=bool), (0.0, 0.0), cell)
    x0, z0 = pts[:, 0].min(), pts[:, 1].min()
    cols = np.rint((pts[:, 0] - x0) / cell).astype(int)
    rows = np.rint((pts[:, 1] - z0) / cell).astype(int)
    free = np.zeros((rows.max() + 1, cols.max() + 1), dtype=bool)
    free[rows, cols] = True
    return OccupancyGrid(free, (float(x0), float(z0)), cell)
