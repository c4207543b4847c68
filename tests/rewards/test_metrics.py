"""Closed-loop metrics: SPL, episode records, aggregation and coverage, on hand-computed numbers."""

import json
import math

import numpy as np
import pytest

from embodied_gym.rewards.coverage import CoverageGrid, in_view
from embodied_gym.rewards.metrics import (
    RESULT_FIELDS,
    make_episode_result,
    spl,
    summarize_closed_loop,
)
from embodied_gym.sims.geometry import path_length
from embodied_gym.sims.navigation import grid_spacing


def test_spl_hand_computed():
    assert spl(True, 4.0, 5.0) == pytest.approx(0.8)
    assert spl(True, 4.0, 3.0) == 1.0, "a path shorter than the reference is capped at 1"
    assert spl(False, 4.0, 4.0) == 0.0
    assert spl(True, 0.0, 0.0) == 1.0
    with pytest.raises(ValueError, match="shortest"):
        spl(True, math.inf, 3.0)


def test_path_length():
    """Polyline length is the sum of segment lengths; a single point has length 0."""
    assert path_length([(0, 0), (3, 0), (3, 4)]) == pytest.approx(7.0)
    assert path_length([(1, 1)]) == 0.0


def _result(eid, cat, split, success, spl_path, gde, steps, invalid, cov=0.5, comp=1.0, domain="in_domain"):
    return make_episode_result(
        episode_id=eid, category=cat, split=split, success=success, path_length=spl_path,
        shortest_path_length=2.0, gde=gde, gde_euclidean=None if gde is None else gde / 2,
        subgoal_completion=comp, coverage=cov, invalid_actions=invalid, steps=steps, domain=domain,
    )


def test_episode_result_is_json_and_has_every_field():
    r = _result("e1", "exploration", "test", True, 4.0, math.inf, 10, 1)
    assert set(RESULT_FIELDS) <= set(r)
    assert r["spl"] == pytest.approx(0.5) and r["gde"] is None, "infinite GDE is recorded as None"
    json.dumps(r, allow_nan=False)
    assert make_episode_result(
        episode_id="x", category="basic", split="test", success=True, path_length=3.0, shortest_path_length=None,
        gde=0.0, gde_euclidean=0.0, subgoal_completion=1.0, coverage=0.0, invalid_actions=0, steps=3,
    )["spl"] == 1.0, "without a reference path SPL falls back to success"


def test_summary_hand_computed():
    results = [
        _result("a", "exploration", "test", True, 2.0, 0.4, 10, 0, cov=0.2),
        _result("b", "exploration", "test", False, 8.0, 3.0, 30, 3, cov=0.6, comp=0.5),
        _result("c", "multi_stage", "ood", True, 4.0, None, 20, 1, domain="ood"),
    ]
    s = summarize_closed_loop(results)
    o = s["overall"]
    assert o["n"] == 3
    assert o["success_rate"] == pytest.approx(2 / 3)
    assert o["spl"] == pytest.approx((1.0 + 0.0 + 0.5) / 3)
    assert o["gde"] == pytest.approx((0.4 + 3.0) / 2), "undefined GDE is left out of the mean"
    assert o["gde_euclidean"] == pytest.approx((0.2 + 1.5) / 2)
    assert o["invalid_action_rate"] == pytest.approx(4 / 60)
    assert o["steps"] == pytest.approx(20.0)
    assert o["subgoal_completion"] == pytest.approx(2.5 / 3)
    assert o["coverage"] == pytest.approx((0.2 + 0.6 + 0.5) / 3)
    assert s["by_category"]["exploration"]["success_rate"] == 0.5
    assert s["by_category"]["exploration"]["n"] == 2
    assert s["by_category"]["multi_stage"]["gde"] is None
    assert set(s["by_split"]) == {"test", "ood"} and s["by_split"]["ood"]["spl"] == 0.5
    assert s["by_domain"]["in_domain"]["n"] == 2
    json.dumps(s, allow_nan=False)


def test_summary_names_missing_field():
    bad = _result("a", "exploration", "test", True, 2.0, 0.4, 10, 0)
    del bad["spl"]
    with pytest.raises(ValueError, match="'a'.*'spl'"):
        summarize_closed_loop([bad])
    assert summarize_closed_loop([])["overall"]["n"] == 0


def _room_grid():
    """Two 2 m x 1 m rooms (cells every 0.5 m) with a wall column at x = 2.0 and a door cell at z = 0."""
    xs = np.arange(0.0, 4.01, 0.5)
    zs = np.arange(0.0, 1.01, 0.5)
    cells = np.array([(x, z) for x in xs for z in zs if x != 2.0 or z == 0.0])
    return cells


def test_grid_spacing_and_in_view():
    """Grid spacing is the smallest cell gap; in_view keeps points inside the image width, in front and within the view distance."""
    assert grid_spacing(_room_grid()) == pytest.approx(0.5)
    uv = np.array([[10.0, 5.0], [-1.0, 5.0], [50.0, 5.0], [10.0, 5.0]])
    front = np.array([True, True, True, False])
    d = np.array([1.0, 1.0, 1.0, 1.0])
    assert in_view(uv, front, 32, d, 5.0).tolist() == [True, False, False, False]
    assert not in_view(uv[:1], front[:1], 32, np.array([6.0]), 5.0)[0], "beyond the view distance"


def test_line_of_sight_blocked_by_wall_and_closed_door():
    cells = _room_grid()
    door_open = CoverageGrid(cells)
    closed = CoverageGrid(cells, transparent=cells[~((cells[:, 0] == 2.0) & (cells[:, 1] == 0.0))])
    target = np.array([[3.0, 0.0], [3.0, 1.0], [1.0, 1.0]])
    assert door_open.line_of_sight((0.0, 0.0), target).tolist() == [True, False, True], (
        "through the open door straight along z=0 is clear; the diagonal crosses the wall"
    )
    assert closed.line_of_sight((0.0, 0.0), target).tolist() == [False, False, True]


def test_coverage_accumulates_over_steps():
    cells = _room_grid()
    grid = CoverageGrid(cells)
    n = len(cells)
    # a camera that sees every cell with x <= 1.0 (u inside the image) in front of it
    uv = np.where(cells[:, :1] <= 1.0, 5.0, -5.0).repeat(2, axis=1)
    front = np.ones(n, dtype=bool)
    assert grid.observe((0.0, 0.5), uv, front, 10, 10.0) == 9
    assert grid.coverage == pytest.approx(9 / n)
    assert grid.observe((0.0, 0.5), uv, front, 10, 10.0) == 0, "cells are counted once"
    everything = np.full((n, 2), 5.0)
    grid.observe((0.0, 0.0), everything, front, 10, 10.0)
    assert 9 / n < grid.coverage < 1.0, "the wall hides part of the second room"


def test_furniture_inside_a_room_does_not_occlude_but_walls_do():
    xs = np.arange(0.0, 4.01, 0.25)
    free = np.array([(x, z) for x in xs for z in xs if not (1.5 <= x <= 2.5 and 1.5 <= z <= 2.5)])
    ray = np.array([[3.5, 2.0]])
    assert not CoverageGrid(free).line_of_sight((0.5, 2.0), ray)[0], "without rooms the furniture block occludes"
    room = CoverageGrid(free, rooms=[(0.0, 0.0, 4.0, 4.0)])
    assert room.line_of_sight((0.5, 2.0), ray)[0], "inside a room the camera sees over furniture"
    walled = np.array([c for c in free if c[0] != 2.0])  # a wall along x = 2 splitting two rooms
    rooms = CoverageGrid(walled, rooms=[(0.0, 0.0, 2.0, 4.0), (2.0, 0.0, 4.0, 4.0)])
    assert not rooms.line_of_sight((0.5, 1.0), np.array([[3.5, 1.0]]))[0], "room edges stay opaque"
