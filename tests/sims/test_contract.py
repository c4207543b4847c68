"""Backend contract tests: every simulator backend in ``backends.CASES`` must pass these.

They use only the :class:`embodied_gym.sims.base.Simulator` interface.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from embodied_gym.sims import ACTIONS, ObjectInfo, Observation, Pose, SimState

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _face(sim, target_xyz, positions, dmin=0.5, dmax=1.2, pitches=(0.0, -15.0, -30.0, -45.0)):
    """Teleport to a reachable position near ``target_xyz`` facing it, trying a few pitches, until
    the observation satisfies the caller's check; yields observations."""
    tx, ty, tz = target_xyz
    d = np.hypot(positions[:, 0] - tx, positions[:, 1] - tz)
    for x, z in positions[(d >= dmin) & (d <= dmax)][:15]:
        yaw = math.degrees(math.atan2(-(tz - z), tx - x))
        for pitch in pitches:
            yield sim.teleport(Pose(float(x), 0.0, float(z), yaw, pitch))


def _find_view(sim, object_id, positions, **kw):
    for obs in _face(sim, sim.objects()[object_id].position, positions, **kw):
        o = obs.objects[object_id]
        if obs.last_action_success and o.visible and o.distance <= sim.interact_distance:
            return obs
    return None


def test_observation_shapes_and_types(fresh):
    obs = fresh.observe()
    assert isinstance(obs, Observation)
    h, w = fresh.height, fresh.width
    assert obs.rgb.shape == (h, w, 3) and obs.rgb.dtype == np.uint8
    assert obs.segmentation.shape == (h, w) and obs.segmentation.dtype == np.int32
    assert isinstance(obs.agent, Pose) and obs.agent == fresh.pose
    assert obs.step == 0 and obs.last_action_success and obs.error is None
    assert obs.rgb.std() > 5, "the frame should not be blank"


def test_object_records_match_segmentation(fresh):
    """Every id in the segmentation is an object of the scene; visible/bbox/pixel_count are
    exactly those of the segmentation mask."""
    positions = fresh.reachable_positions()
    assert len(positions) > 10
    checked = 0
    for x, z in positions[:: max(1, len(positions) // 8)]:
        for yaw in (0.0, 120.0, 240.0):
            obs = fresh.teleport(Pose(float(x), 0.0, float(z), yaw, -15.0))
            ids = set(np.unique(obs.segmentation).tolist()) - {0}
            assert ids <= set(obs.objects)
            for oid, rec in obs.objects.items():
                assert isinstance(rec, ObjectInfo) and rec.id == oid and oid > 0
                assert rec.kind in ("object", "furniture", "door")
                mask = obs.segmentation == oid
                assert rec.pixel_count == int(mask.sum())
                assert rec.visible == bool(mask.any())
                if rec.visible:
                    rows, cols = np.nonzero(mask)
                    assert rec.bbox == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
                    checked += 1
                else:
                    assert rec.bbox is None
    assert checked > 0


def test_object_kinds_and_flags(fresh):
    objs = fresh.objects()
    kinds = {o.kind for o in objs.values()}
    assert {"object", "furniture", "door"} <= kinds
    for o in objs.values():
        assert o.name and o.category
        assert not o.visible and o.bbox is None
        if o.kind == "door":
            assert o.openable and o.is_open is not None
        if o.kind == "object":
            assert o.pickable
        if o.on is not None:
            assert objs[o.on].receptacle
    assert json.dumps([o.to_dict() for o in objs.values()])


def test_turns_and_moves_change_pose(fresh):
    p0 = fresh.pose
    obs = fresh.step("TurnLeft")
    assert obs.last_action == "TurnLeft" and obs.last_action_success and obs.step == 1
    assert math.isclose((obs.agent.yaw - p0.yaw) % 360, fresh.turn_step % 360, abs_tol=1e-6)
    obs = fresh.step("TurnRight")
    assert math.isclose(obs.agent.yaw % 360, p0.yaw % 360, abs_tol=1e-6)
    obs = fresh.step("LookDown")
    assert math.isclose(obs.agent.pitch, p0.pitch - fresh.look_step)
    obs = fresh.step("LookUp")
    assert math.isclose(obs.agent.pitch, p0.pitch)
    for _ in range(12):  # find a heading where a move succeeds
        before = fresh.pose
        obs = fresh.step("MoveForward")
        if obs.last_action_success:
            fx, _, fz = before.forward
            assert math.isclose(obs.agent.x, before.x + fresh.move_step * fx, abs_tol=1e-6)
            assert math.isclose(obs.agent.z, before.z + fresh.move_step * fz, abs_tol=1e-6)
            back = fresh.step("MoveBackward")
            assert back.last_action_success
            assert math.isclose(back.agent.x, before.x, abs_tol=1e-6) and math.isclose(back.agent.z, before.z, abs_tol=1e-6)
            return
        assert obs.agent == before and obs.error
        fresh.step("TurnLeft")
    pytest.fail("no heading allowed a move")


def test_walking_into_a_wall_fails_with_a_message(fresh):
    for _ in range(200):
        obs = fresh.step("MoveForward")
        if not obs.last_action_success:
            break
    assert not obs.last_action_success
    assert "MoveForward" in obs.error and "blocked" in obs.error
    assert fresh.step("TurnLeft").last_action_success  # the episode goes on


def test_unknown_action_raises(fresh):
    with pytest.raises(ValueError, match="Fly"):
        fresh.step("Fly")
    with pytest.raises(ValueError, match="out of range"):
        fresh.step(len(ACTIONS))
    assert fresh.step(ACTIONS.index("TurnLeft")).last_action == "TurnLeft"


def test_pick_with_nothing_in_reach_fails_and_episode_goes_on(fresh):
    obs = fresh.step("LookUp")
    obs = fresh.step("LookUp")
    obs = fresh.step("PickObject")
    assert not obs.last_action_success and "PickObject" in obs.error
    assert obs.held_object is None
    drop = fresh.step("DropObject")
    assert not drop.last_action_success and "not holding" in drop.error
    assert fresh.step("Finish").last_action_success


def test_pick_then_drop(fresh):
    positions = fresh.reachable_positions()
    for oid, rec in fresh.objects().items():
        if not rec.pickable:
            continue
        if _find_view(fresh, oid, positions) is None:
            continue
        obs = fresh.step("PickObject")
        assert obs.last_action_success, obs.error
        held = obs.held_object
        assert held is not None and obs.objects[held].held and obs.objects[held].on is None
        again = fresh.step("PickObject")
        assert not again.last_action_success and "already holding" in again.error
        obs = fresh.step("DropObject")
        assert obs.last_action_success, obs.error
        assert obs.held_object is None and not obs.objects[held].held
        p = obs.agent
        ox, _, oz = obs.objects[held].position
        assert math.hypot(ox - p.x, oz - p.z) <= fresh.interact_distance + 1e-6
        return
    pytest.fail("no pickable object could be brought into view")


def test_open_door(fresh):
    positions = fresh.reachable_positions()
    for oid, rec in fresh.objects().items():
        if rec.kind != "door" or rec.is_open:
            continue
        if _find_view(fresh, oid, positions, pitches=(0.0,)) is None:
            continue
        obs = fresh.step("OpenDoor")
        assert obs.last_action_success, obs.error
        assert obs.objects[oid].is_open
        obs = fresh.step("OpenDoor")  # the door in front is open now: nothing (else) to open
        n_open = sum(bool(o.is_open) for o in obs.objects.values() if o.openable)
        if obs.last_action_success:
            assert n_open == 2, "a second OpenDoor may only succeed on another door"
        else:
            assert "OpenDoor" in obs.error and n_open == 1
        return
    pytest.fail("no closed door reachable")


def test_teleport_refuses_blocked_pose(fresh):
    before = fresh.pose
    obs = fresh.teleport(Pose(1e4, 0.0, 1e4))
    assert not obs.last_action_success and obs.error
    assert fresh.pose == before


def test_snapshot_restore_gives_identical_frames(fresh):
    fresh.step("TurnLeft")
    state = fresh.snapshot()
    assert isinstance(state, SimState)
    ref = fresh.observe()
    seq = ["MoveForward", "TurnRight", "MoveForward", "LookDown", "PickObject", "MoveBackward"]
    after = [fresh.step(a) for a in seq]
    obs = fresh.restore(state)
    assert obs.agent == ref.agent and obs.step == ref.step
    assert np.array_equal(obs.rgb, ref.rgb) and np.array_equal(obs.segmentation, ref.segmentation)
    replay = [fresh.step(a) for a in seq]
    for a, b in zip(after, replay, strict=True):
        assert a.agent == b.agent and a.last_action_success == b.last_action_success and a.error == b.error
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.segmentation, b.segmentation)


def test_scene_round_trip(fresh, backend):
    scene = fresh.scene
    text = json.dumps(scene)
    obs1 = fresh.reset(json.loads(text))
    obs2 = fresh.reset(backend.scene)
    assert np.array_equal(obs1.rgb, obs2.rgb)


def test_navigation_is_consistent(fresh):
    pos = fresh.reachable_positions()
    assert pos.ndim == 2 and pos.shape[1] == 2
    rng = np.random.default_rng(0)
    for k in rng.choice(len(pos), size=min(10, len(pos)), replace=False):
        x, z = pos[k]
        assert fresh.teleport(Pose(float(x), 0.0, float(z))).last_action_success
    a, b = pos[0], pos[-1]
    path = fresh.shortest_path(tuple(a), tuple(b))
    assert path, "two reachable positions must be connected"
    assert math.dist(path[0], a) < 0.5 and math.dist(path[-1], b) < 0.5
    geo = fresh.geodesic_distance(tuple(a), tuple(b))
    assert geo >= math.dist(a, b) - 0.5
    assert math.isclose(geo, sum(math.dist(p, q) for p, q in zip(path, path[1:], strict=False)))
    for p in path:  # every waypoint is navigable
        assert fresh.teleport(Pose(p[0], 0.0, p[1])).last_action_success
    assert fresh.shortest_path(tuple(a), (1e4, 1e4)) == []
    assert fresh.geodesic_distance(tuple(a), (1e4, 1e4)) == math.inf


def test_projection_lands_on_the_object(fresh):
    """The projected centre of a visible object lies inside (or within a few pixels of) its box."""
    checked = 0
    positions = fresh.reachable_positions()
    for oid, rec in fresh.objects().items():
        if rec.kind != "object":
            continue
        obs = _find_view(fresh, oid, positions)
        if obs is None:
            continue
        o = obs.objects[oid]
        cx, cy, cz = o.position
        uv, front = fresh.project(np.array([[cx, cy + o.size[1] / 2, cz]]))
        assert front[0]
        x0, y0, x1, y1 = o.bbox
        u, v = uv[0]
        assert x0 - 3 <= u <= x1 + 3 and y0 - 3 <= v <= y1 + 3, (u, v, o.bbox)
        checked += 1
        if checked >= 3:
            break
    assert checked >= 1
    uv, front = fresh.project(np.array([[fresh.pose.x, 1.0, fresh.pose.z]]) - np.array([[*fresh.pose.forward]]))
    assert not front[0]  # behind the camera


def test_top_down_map(fresh):
    m = fresh.top_down_map()
    assert m.shape == (512, 512, 3) and m.dtype == np.uint8
    pos = fresh.reachable_positions()
    path = fresh.shortest_path(tuple(pos[0]), tuple(pos[-1]))
    mp = fresh.top_down_map(path, size=256)
    assert mp.shape == (256, 256, 3)
    assert not np.array_equal(mp, fresh.top_down_map(size=256)), "the path must be drawn"


def test_determinism_across_instances(backend):
    """Two simulators, same scene and actions: bit-identical frames and states."""
    seq = ["TurnLeft", "MoveForward", "MoveForward", "LookDown", "PickObject", "TurnRight", "MoveForward", "OpenDoor"]
    runs = []
    for _ in range(2):
        s = backend.make()
        frames = [s.reset(backend.scene)] + [s.step(a) for a in seq]
        runs.append((frames, s.snapshot()))
        s.close()
    (fa, sa), (fb, sb) = runs
    assert sa.data == sb.data
    for a, b in zip(fa, fb, strict=True):
        assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.segmentation, b.segmentation)
        assert a.agent == b.agent and {k: v.to_dict() for k, v in a.objects.items()} == {
            k: v.to_dict() for k, v in b.objects.items()
        }
