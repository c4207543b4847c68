"""Occupancy-grid navigation (backend independent)."""

from __future__ import annotations

import math

import numpy as np

from embodied_gym.sims.geometry import free_mask, path_length, rect_distances, segment_distances
from embodied_gym.sims.navigation import OccupancyGrid


def _room_with_wall():
    """A 5 x 3 m room split by a wall at x = 2.5 with a 1 m gap at z in [2, 3]."""
    walls = np.array([[[2.5, 0.0], [2.5, 2.0]]])

    def pred(pts):
        inside = (pts[:, 0] >= 0) & (pts[:, 0] <= 5) & (pts[:, 1] >= 0) & (pts[:, 1] <= 3)
        return free_mask(pts, 0.2, inside, walls, np.zeros((0, 4)))

    return OccupancyGrid.from_predicate((0.0, 0.0, 5.0, 3.0), 0.25, pred)


def test_geometry_helpers():
    """segment_distances / rect_distances give hand-computed point-to-wall and point-to-rectangle distances (0 inside)."""
    pts = np.array([[0.0, 1.0], [3.0, 0.0]])
    segs = np.array([[[0.0, 0.0], [2.0, 0.0]]])
    assert np.allclose(segment_distances(pts, segs)[:, 0], [1.0, 1.0])
    rects = np.array([[1.0, 1.0, 2.0, 2.0]])
    assert np.allclose(rect_distances(np.array([[1.5, 1.5], [0.0, 1.5], [3.0, 3.0]]), rects)[:, 0], [0.0, 1.0, math.sqrt(2)])


def test_path_goes_around_the_wall():
    g = _room_with_wall()
    path = g.shortest_path((1.0, 0.5), (4.0, 0.5))
    assert path and math.dist(path[0], (1.0, 0.5)) < 0.2 and math.dist(path[-1], (4.0, 0.5)) < 0.2
    assert max(z for _, z in path) >= 2.0, "the path must pass through the gap"
    length = path_length(path)
    assert 4.6 < length < 5.2  # straight line 3 m; around the wall end (2.5, 2.25) about 4.6 m
    for a, b in zip(path, path[1:], strict=False):
        assert g.line_of_sight(g.to_cell(*a), g.to_cell(*b))


def test_open_space_path_is_straight():
    g = _room_with_wall()
    path = g.shortest_path((0.5, 0.5), (2.0, 1.75))
    assert len(path) == 2 and math.isclose(path_length(path), math.dist((0.5, 0.5), (2.0, 1.75)))


def test_unreachable_and_out_of_grid():
    free = np.ones((5, 5), dtype=bool)
    free[:, 2] = False  # a full wall
    g = OccupancyGrid(free, (0.0, 0.0), 1.0)
    assert g.shortest_path((0, 0), (4, 4)) == []
    assert g.shortest_path((0, 0), (40, 40)) == []
    assert len(g.reachable_from(0, 0)) == 10
    # an empty polyline has length 0 (one path length everywhere); "unreachable" is the empty
    # path itself, which Simulator.geodesic_distance turns into inf (tests/sims/test_contract.py)
    assert path_length([]) == 0.0
    assert g.nearest_free(2.0, 0.0, 0.5) is None
    assert g.nearest_free(2.0, 0.0, 1.0) in ((0, 1), (0, 3))


def test_no_corner_cutting():
    free = np.ones((3, 3), dtype=bool)
    free[0, 1] = free[1, 0] = False
    g = OccupancyGrid(free, (0.0, 0.0), 1.0)
    assert g.astar((0, 0), (1, 1)) == []  # the diagonal squeezes between two blocked cells
