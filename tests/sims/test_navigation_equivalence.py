"""The fast OccupancyGrid.components / line_of_sight / cached shortest_path give exactly what the
straightforward definitions give (BFS over the 8-connected no-corner-cutting graph; per-sample
cell checks; A* + smoothing computed afresh), on random grids."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from embodied_gym.sims.navigation import OccupancyGrid


def reference_components(g: OccupancyGrid) -> np.ndarray:
    labels = np.full(g.free.shape, -1, dtype=np.int32)
    n = 0
    for r0, c0 in zip(*np.nonzero(g.free), strict=False):
        if labels[r0, c0] >= 0:
            continue
        labels[r0, c0] = n
        queue = deque([(int(r0), int(c0))])
        while queue:
            r, c = queue.popleft()
            for rr, cc, _ in g._neighbours(r, c):
                if labels[rr, cc] < 0:
                    labels[rr, cc] = n
                    queue.append((rr, cc))
        n += 1
    return labels


def reference_line_of_sight(g: OccupancyGrid, a, b) -> bool:
    (r0, c0), (r1, c1) = a, b
    n = int(max(abs(r1 - r0), abs(c1 - c0)) * 4) + 1
    for t in np.linspace(0.0, 1.0, n + 1):
        r, c = r0 + (r1 - r0) * t, c0 + (c1 - c0) * t
        for rr in {math.floor(r + 1e-9), math.ceil(r - 1e-9)}:
            for cc in {math.floor(c + 1e-9), math.ceil(c - 1e-9)}:
                if not g.is_free((rr, cc)):
                    return False
    return True


@pytest.mark.parametrize("density", [0.45, 0.6, 0.75, 0.9])
def test_components_match_bfs_labels(density):
    """Same label array (numbering included) as a BFS in row-major order, sparse to dense grids."""
    rng = np.random.default_rng(int(density * 100))
    for _ in range(40):
        shape = tuple(int(v) for v in rng.integers(1, 30, size=2))
        g = OccupancyGrid(rng.random(shape) < density, (0.0, 0.0), 0.25)
        np.testing.assert_array_equal(g.components(), reference_components(g))


def test_line_of_sight_matches_per_sample_checks():
    """Same answer as checking every quarter-cell sample's cells one by one, including segments
    whose samples touch cells outside the grid."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        g = OccupancyGrid(rng.random((15, 20)) < 0.8, (0.0, 0.0), 0.25)
        for _ in range(40):
            a = (int(rng.integers(-1, 16)), int(rng.integers(-1, 21)))
            b = (int(rng.integers(-1, 16)), int(rng.integers(-1, 21)))
            assert g.line_of_sight(a, b) == reference_line_of_sight(g, a, b), (a, b)


def test_cached_shortest_path_equals_a_fresh_one():
    """A second query (cache hit) returns the same waypoints as a fresh grid computing it anew,
    and mutating a returned list does not change later answers."""
    rng = np.random.default_rng(3)
    free = rng.random((20, 20)) < 0.8
    cached = OccupancyGrid(free, (0.0, 0.0), 0.25)
    for _ in range(60):
        s, t = rng.uniform(0, 4.75, size=2), rng.uniform(0, 4.75, size=2)
        first = cached.shortest_path(s, t)
        if first:
            first.append((99.0, 99.0))
        again = cached.shortest_path(s, t)
        assert again == OccupancyGrid(free, (0.0, 0.0), 0.25).shortest_path(s, t)
        assert (99.0, 99.0) not in again


def test_free_mask_equals_the_full_distance_test():
    """free_mask (distances only for points still in the running) equals the test over every
    point: walkable, >= radius from every segment and from every rectangle."""
    from embodied_gym.sims.geometry import free_mask, rect_distances, segment_distances

    rng = np.random.default_rng(11)
    for _ in range(20):
        pts = rng.uniform(0, 10, size=(500, 2))
        segs = rng.uniform(0, 10, size=(int(rng.integers(0, 12)), 2, 2))
        rects = np.sort(rng.uniform(0, 10, size=(int(rng.integers(0, 6)), 2, 2)), axis=1).reshape(-1, 4)  # (x0, z0, x1, z1)
        walkable = rng.random(500) < 0.7
        want = walkable.copy()
        if len(segs):
            want &= segment_distances(pts, segs).min(axis=1) >= 0.4
        if len(rects):
            want &= rect_distances(pts, rects).min(axis=1) >= 0.4
        np.testing.assert_array_equal(free_mask(pts, 0.4, walkable, segs, rects), want)


def test_segment_distances_equal_the_vector_formula_bit_for_bit():
    """segment_distances (per coordinate) returns exactly the values of the projection formula in
    vector form (clip(ap.ab / ab.ab), norm of p - closest), degenerate segments included."""
    from embodied_gym.sims.geometry import segment_distances

    rng = np.random.default_rng(5)
    for _ in range(20):
        pts = rng.uniform(-5, 15, size=(400, 2))
        pts[:50] = np.round(pts[:50] * 4) / 4  # grid points
        segs = rng.uniform(0, 10, size=(30, 2, 2))
        segs[:4, 1] = segs[:4, 0]  # zero-length
        segs[4:8, 1, 0] = segs[4:8, 0, 0]  # axis-aligned
        a, ab = segs[None, :, 0, :], segs[None, :, 1, :] - segs[None, :, 0, :]
        t = np.clip(((pts[:, None, :] - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
        want = np.linalg.norm(pts[:, None, :] - (a + t[..., None] * ab), axis=-1)
        np.testing.assert_array_equal(segment_distances(pts, segs), want)
