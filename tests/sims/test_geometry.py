"""The one geometry toolkit (:mod:`embodied_gym.sims.geometry`) and the one grid
(:class:`embodied_gym.sims.navigation.OccupancyGrid`): conventions, and equality with the
definitions they replaced where behaviour was kept (reference implementations copied here)."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from embodied_gym.sims.base import ObjectInfo, Pose, RoomInfo
from embodied_gym.sims.geometry import (
    DOOR_MARGIN,
    door_rooms,
    drop_ray,
    heading,
    path_length,
    relative_bearing,
    room_at,
    room_of,
    rooms_at,
    surface_at,
    wrap180,
)
from embodied_gym.sims.navigation import DEFAULT_SPACING, OccupancyGrid, grid_spacing

ROOMS = [RoomInfo("a", "kitchen", "kitchen", (0.0, 0.0, 4.0, 3.0)), RoomInfo("b", "office", "office", (4.0, 0.0, 8.0, 3.0))]


def test_wrap_and_bearings_follow_the_yaw_convention():
    """yaw 0 faces +x, 90 faces -z (forward = (cos yaw, -sin yaw)); positive relative bearing = left."""
    assert wrap180(180.0) == 180.0 and wrap180(-180.0) == 180.0 and wrap180(190.0) == -170.0
    assert heading((0, 0), (1, 0)) == 0.0 and heading((0, 0), (0, -1)) == 90.0
    pose = Pose(0.0, 0.0, 0.0, yaw=90.0)
    fx, _, fz = pose.forward
    assert relative_bearing(pose, (fx, 0.0, fz)) == pytest.approx(0.0, abs=1e-9)
    assert relative_bearing(pose, (-1.0, 0.0, 0.0)) == pytest.approx(90.0)  # -x is on the left when facing -z
    assert relative_bearing(pose, (1.0, 0.0)) == pytest.approx(-90.0)


def test_path_length_is_the_polyline_length():
    """One definition: the sum of segments; 0 for an empty or one-point path (unreachability is
    reported by ``Simulator.geodesic_distance`` as inf, not by the length of a path)."""
    assert path_length([]) == 0.0 and path_length([(1, 1)]) == 0.0
    assert path_length([(0, 0), (3, 0), (3, 4)]) == pytest.approx(7.0)
    assert path_length(iter([(0, 0), (0, 2)])) == pytest.approx(2.0)


def test_room_lookups():
    assert [r.id for r in rooms_at(ROOMS, 4.0, 1.0)] == ["a", "b"], "a shared wall belongs to both rooms"
    assert room_at(ROOMS, 4.0, 1.0).id == "a" and room_at(ROOMS, 6.0, 1.0).id == "b" and room_at(ROOMS, 9, 1) is None
    obj = ObjectInfo(1, "key", "the key", room="b", position=(1.0, 0.0, 1.0))
    assert room_of(obj, ROOMS).id == "b", "the object's own room field wins"
    assert room_of(ObjectInfo(2, "key", "k", position=(1.0, 0.0, 1.0)), ROOMS).id == "a"


def test_door_rooms_uses_one_margin():
    """A door record a few centimetres off the wall line still joins both rooms; one further
    than :data:`DOOR_MARGIN` from a room does not join it."""
    on_wall = ObjectInfo(3, "door", "d", kind="door", position=(4.0, 0.0, 1.5))
    off = ObjectInfo(4, "door", "d", kind="door", position=(4.0, 0.0, 3.0 + DOOR_MARGIN / 2))
    far = ObjectInfo(5, "door", "d", kind="door", position=(4.0, 0.0, 3.0 + 2 * DOOR_MARGIN))
    assert [r.id for r in door_rooms(on_wall, ROOMS)] == ["a", "b"]
    assert [r.id for r in door_rooms(off, ROOMS)] == ["a", "b"]
    assert door_rooms(far, ROOMS) == []


def _reference_drop(pose, reach, tops):
    """The house backend's former loop: numpy.arange samples, first top (3 cm inset) hit."""
    fx, _, fz = pose.forward
    for d in np.arange(0.3, reach + 1e-9, 0.05):
        x, z = pose.x + d * fx, pose.z + d * fz
        for rid, (x0, z0, x1, z1) in tops.items():
            if x0 + 0.03 <= x <= x1 - 0.03 and z0 + 0.03 <= z <= z1 - 0.03:
                return rid
    return None


def test_drop_ray_samples_exactly_the_former_points():
    """Same samples as ``numpy.arange(0.3, reach + 1e-9, 0.05)``: same receptacle on random poses."""
    rng = np.random.default_rng(0)
    tops = {7: (1.0, 1.0, 2.0, 1.6), 9: (3.0, 0.0, 3.4, 2.0)}
    hits = 0
    for _ in range(400):
        pose = Pose(float(rng.uniform(0, 4)), 0.0, float(rng.uniform(-1, 3)), float(rng.uniform(0, 360)))
        reach = float(rng.choice([1.0, 1.5, 1.35]))
        hit = drop_ray(pose, reach, lambda x, z: surface_at(tops, x, z))
        want = _reference_drop(pose, reach, tops)
        assert (None if hit is None else hit[2]) == want
        hits += want is not None
    assert hits > 20
    assert drop_ray(Pose(0.5, 0, 1.3), 3.0, lambda x, z: surface_at(tops, x, z), blocked=lambda x, z: x > 0.7) is None


def _reference_field(free: np.ndarray, origin, spacing, goal) -> np.ndarray:
    """The planner's former Dijkstra on an ``(i = x, j = z)`` array, for comparison."""
    ii, jj = np.nonzero(free)
    px, pz = origin[0] + ii * spacing, origin[1] + jj * spacing
    d2 = (px - goal[0]) ** 2 + (pz - goal[1]) ** 2
    best = np.flatnonzero(d2 == d2.min())
    # the one grid breaks ties row-major (z first), as the backends snap goals
    k = min(best, key=lambda n: (jj[n], ii[n]))
    src = (int(ii[k]), int(jj[k]))
    dist = np.full(free.shape, np.inf)
    dist[src] = 0.0
    heap = [(0.0, src)]
    steps = [(di, dj, spacing * (math.sqrt(2.0) if di and dj else 1.0)) for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj]
    while heap:
        d, (i, j) = heapq.heappop(heap)
        if d > dist[i, j]:
            continue
        for di, dj, w in steps:
            a, b = i + di, j + dj
            if 0 <= a < free.shape[0] and 0 <= b < free.shape[1] and free[a, b]:
                if di and dj and not (free[i + di, j] and free[i, j + dj]):
                    continue
                if d + w < dist[a, b]:
                    dist[a, b] = d + w
                    heapq.heappush(heap, (d + w, (a, b)))
    return dist


def test_distance_field_equals_the_former_planner_field():
    """``OccupancyGrid.from_cells(...).distance_field`` gives bit-identical distances to the
    planner's former grid on random reachable sets (transposed layout)."""
    rng = np.random.default_rng(1)
    for _ in range(25):
        shape = tuple(int(v) for v in rng.integers(2, 20, size=2))  # (nx, nz)
        free = rng.random(shape) < 0.7
        free[0, 0] = free[-1, -1] = True
        ii, jj = np.nonzero(free)
        cells = np.stack([0.5 + ii * 0.25, -1.0 + jj * 0.25], axis=1)
        grid = OccupancyGrid.from_cells(cells)
        assert grid.cell == 0.25 and (grid.x0, grid.z0) == (0.5, -1.0)
        goal = (float(rng.uniform(0.5, 0.5 + shape[0] * 0.25)), float(rng.uniform(-1.0, -1.0 + shape[1] * 0.25)))
        want = _reference_field(free, (0.5, -1.0), 0.25, goal)
        got = grid.distance_field(goal)
        np.testing.assert_array_equal(got.T, want)


def test_corner_reading_and_bilinear_value():
    free = np.ones((3, 3), dtype=bool)
    free[2, 2] = False
    g = OccupancyGrid(free, (0.0, 0.0), 1.0)
    assert g.square_free(0.5, 0.5) and not g.square_free(1.5, 1.5) and not g.square_free(-0.5, 0.5)
    assert g.square_free(2.0, 0.0), "a point on the grid's edge reads its edge cells only"
    field = np.add.outer(np.arange(3.0), np.arange(3.0))  # row + col
    assert g.value(field, 0.5, 0.25) == pytest.approx(0.75)
    # off free squares: the nearest free cell (tie between (1, 2) and (2, 1): row-major) + the gap
    assert g.nearest(1.6, 1.6) == (1, 2)
    assert g.value(field, 1.6, 1.6) == pytest.approx(field[1, 2] + math.hypot(0.4, 0.6))


def test_grid_spacing_guess():
    assert grid_spacing(np.array([[0.0, 0.0], [0.25, 0.0], [1.0, 0.5]])) == pytest.approx(0.25)
    assert grid_spacing(np.array([[1.0, 2.0]])) == DEFAULT_SPACING
    empty = OccupancyGrid.from_cells(np.zeros((0, 2)), 0.5)
    assert empty.cell == 0.5 and not empty.free.any() and empty.shortest_path((0, 0), (0, 0)) == []
