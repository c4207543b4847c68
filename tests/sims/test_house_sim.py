"""House-backend specifics: doors block until opened, receptacles, culling exactness, several
simulators in one process, object state setting, depth, constructor validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from embodied_gym.sims import Pose, make_simulator
from embodied_gym.sims.house import HouseSimulator, generate_house_spec

SEED = 3


@pytest.fixture(scope="module")
def house():
    s = HouseSimulator(seed=SEED, width=96, height=72)
    s.reset()
    yield s
    s.close()


@pytest.fixture()
def h(house):
    house.reset(SEED)
    return house


def _door_approach(sim, door_id):
    """A pose 0.5 m in front of a door, facing it, on a side the agent can reach."""
    e = sim.world.entities[door_id]
    cx, _, cz = e.pos
    normal = (1.0, 0.0) if e.axis == "x" else (0.0, 1.0)
    reach = sim.reachable_positions()
    for sign in (1, -1):
        x, z = cx + sign * 0.5 * normal[0], cz + sign * 0.5 * normal[1]
        if np.hypot(reach[:, 0] - x, reach[:, 1] - z).min() < 0.01:
            yaw = math.degrees(math.atan2(-(cz - z), cx - x))
            return Pose(x, 0.0, z, yaw, 0.0)
    return None


def test_closed_door_blocks_until_opened(h):
    door = next(d for d in h.world.door_ids if _door_approach(h, d) is not None)
    pose = _door_approach(h, door)
    obs = h.teleport(pose)
    assert obs.last_action_success and obs.objects[door].visible
    room_before = obs.room
    blocked = h.step("MoveForward")
    blocked = h.step("MoveForward")
    assert not blocked.last_action_success
    assert h.world.entities[door].name in blocked.error
    far_side = (pose.x + 1.0 * pose.forward[0], pose.z + 1.0 * pose.forward[2])
    closed_geo = h.geodesic_distance(pose, far_side)
    assert closed_geo > 1.5, "with the door closed the far side is not straight ahead"
    opened = h.step("OpenDoor")
    assert opened.last_action_success and opened.objects[door].is_open
    assert h.geodesic_distance(pose, far_side) < min(closed_geo, 1.5)
    for _ in range(4):
        obs = h.step("MoveForward")
        assert obs.last_action_success, obs.error
    assert obs.room != room_before


def test_door_segmentation_and_close_again(h):
    door = h.world.door_ids[0]
    h.set_object_state(door, is_open=True)
    assert h.objects()[door].is_open
    h.set_object_state(door, is_open=False)
    assert not h.objects()[door].is_open
    with pytest.raises(ValueError, match="not a door"):
        h.set_object_state(h.world.object_ids[0], is_open=True)


def test_drop_on_receptacle_sets_on(h):
    world = h.world
    obj = world.object_ids[0]
    furn = next(f for f in world.furniture_ids if world.entities[f].receptacle
                and h.interaction_pose(f, max_distance=1.2) is not None)
    h.set_object_state(obj, held=True)
    pose = h.interaction_pose(furn, max_distance=1.2)
    obs = h.teleport(pose)
    assert obs.held_object == obj and obs.objects[obj].held
    obs = h.step("DropObject")
    assert obs.last_action_success, obs.error
    rec = obs.objects[obj]
    assert rec.on is not None and obs.objects[rec.on].receptacle
    assert math.isclose(rec.position[1], world.entities[rec.on].top)


def test_set_object_state_position_and_errors(h):
    obj = h.world.object_ids[0]
    furn = next(f for f in h.world.furniture_ids if h.world.entities[f].receptacle)
    fx, _, fz = h.world.entities[furn].pos
    h.set_object_state(obj, position=(fx, fz))
    rec = h.objects()[obj]
    assert rec.on == furn and math.isclose(rec.position[1], h.world.entities[furn].top)
    with pytest.raises(ValueError, match="no object with id"):
        h.set_object_state(999, held=True)
    with pytest.raises(ValueError, match="cannot be moved"):
        h.set_object_state(furn, position=(0, 0, 0))
    h.set_object_state(obj, held=True)
    with pytest.raises(ValueError, match="already holding"):
        h.set_object_state(h.world.object_ids[1], held=True)


def test_culling_does_not_change_frames(h, monkeypatch):
    """Rooms skipped by portal/frustum culling are really invisible: frames equal full draws."""
    scene_gl = h._scene_gl
    poses = [Pose(float(x), 0.0, float(z), yaw, pitch)
             for (x, z) in h.reachable_positions()[::25] for yaw in (0.0, 90.0, 200.0) for pitch in (0.0, 30.0)]
    culled, n_drawn = [], []
    for p in poses:
        culled.append(h.teleport(p))
        n_drawn.append(len(scene_gl.visible_rooms(h.world, h._view(), h._proj)))
    assert min(n_drawn) < len(h.world.spec.rooms), "culling should skip rooms somewhere"
    original = scene_gl.visible_rooms

    def everything(w, v, p):  # the culled rooms drawn after the visible ones, same order otherwise
        order = original(w, v, p)
        return order + [k for k in range(len(scene_gl.room_ids)) if k not in order]

    monkeypatch.setattr(scene_gl, "visible_rooms", everything)
    full = [h.teleport(p) for p in poses]
    for a, b in zip(culled, full, strict=True):
        assert np.array_equal(a.segmentation, b.segmentation)
        # RGB may differ only in sub-pixel cracks where wall and ceiling polygons meet at a
        # T-junction (what shows through a crack depends on what else is drawn), never on objects
        diff = (a.rgb != b.rgb).any(axis=2)
        assert diff.mean() < 0.005 and not a.segmentation[diff].any()


def test_several_simulators_in_one_process():
    """Interleaved use of two simulators gives the same frames as using each alone."""
    seq = ["TurnLeft", "MoveForward", "LookDown", "MoveForward", "TurnRight"]
    solo = HouseSimulator(seed=1, width=64, height=48)
    ref = [solo.reset(1)] + [solo.step(a) for a in seq]
    solo.close()
    a = make_simulator("house", seed=1, width=64, height=48)
    b = make_simulator("house", seed=2, width=80, height=60)
    got = [a.reset()]
    b.reset()
    for act in seq:
        b.step("TurnLeft")
        got.append(a.step(act))
        b.step("MoveForward")
    for x, y in zip(ref, got, strict=True):
        assert np.array_equal(x.rgb, y.rgb) and np.array_equal(x.segmentation, y.segmentation)
    assert b.observe().rgb.shape == (60, 80, 3)
    a.close()
    b.close()


def test_depth_option():
    s = HouseSimulator(seed=SEED, width=64, height=48, depth=True)
    obs = s.reset()
    assert obs.depth is not None and obs.depth.shape == (48, 64) and obs.depth.dtype == np.float32
    assert (obs.depth > 0.04).all() and (obs.depth < 60).all()
    s.close()


def test_ood_house_renders():
    s = HouseSimulator(seed=7, width=64, height=48, style="ood")
    obs = s.reset()
    assert s.spec.style == "ood" and obs.rgb.std() > 5
    s.close()


def test_reset_accepts_spec_dict_json_and_rejects_garbage(h):
    spec = generate_house_spec(SEED)
    a = h.reset(spec)
    b = h.reset(spec.to_dict())
    c = h.reset(spec.to_json())
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.rgb, c.rgb)
    with pytest.raises(ValueError, match="scene"):
        h.reset(3.5)
    bad = spec.to_dict()
    bad["rooms"][0]["kind"] = "garage"
    with pytest.raises(ValueError, match="rooms\\[0\\].kind: unknown room kind 'garage'"):
        h.reset(bad)


@pytest.mark.parametrize("kwargs", [{"width": 0}, {"height": "big"}, {"move_step": -1.0}, {"turn_step": float("nan")}])
def test_constructor_validation(kwargs):
    with pytest.raises(ValueError):
        HouseSimulator(**kwargs)


def test_finish_is_recorded(h):
    assert not h.finished
    obs = h.step("Finish")
    assert obs.last_action == "Finish" and obs.last_action_success and h.finished
    assert h.step("TurnLeft").last_action_success


def test_look_limits(h):
    for _ in range(4):
        assert h.step("LookUp").last_action_success
    obs = h.step("LookUp")
    assert not obs.last_action_success and "limit" in obs.error and obs.agent.pitch == 60.0


def test_simulators_move_between_threads():
    """A simulator built on one thread can be driven from another (the evaluation runner's
    worker thread), and two threads driving two simulators at once get the solo frames."""
    from concurrent.futures import ThreadPoolExecutor

    seq = ["TurnLeft", "MoveForward", "LookDown", "TurnRight"]

    def run(sim, seed):
        return [sim.reset(seed)] + [sim.step(a) for a in seq]

    solo = {}
    for seed in (1, 2):
        s = HouseSimulator(seed=seed, width=48, height=36)
        solo[seed] = run(s, seed)
        s.close()
    a = HouseSimulator(seed=1, width=48, height=36)
    b = HouseSimulator(seed=2, width=48, height=36)
    a.reset()  # GL used on this thread first
    with ThreadPoolExecutor(2) as pool:
        fa, fb = pool.submit(run, a, 1), pool.submit(run, b, 2)
        got = {1: fa.result(), 2: fb.result()}
    got_main = run(a, 1)  # and back on the main thread
    for seed in (1, 2):
        for x, y in zip(solo[seed], got[seed], strict=True):
            assert np.array_equal(x.rgb, y.rgb) and np.array_equal(x.segmentation, y.segmentation)
    for x, y in zip(solo[1], got_main, strict=True):
        assert np.array_equal(x.rgb, y.rgb)
    a.close()
    b.close()


@pytest.mark.skipif(__import__("importlib").util.find_spec("triton") is None, reason="triton not installed")
def test_rendering_then_importing_triton_does_not_crash():
    """Mesa's llvmpipe and Triton (pulled in by torch/transformers) each bring an LLVM; Triton
    imported after Mesa used to kill the process. The house renderer pre-imports Triton."""
    import subprocess
    import sys

    code = (
        "from embodied_gym.sims.house import HouseSimulator\n"
        "s = HouseSimulator(seed=0, width=32, height=24); s.reset()\n"
        "import triton\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr[-2000:]
