"""The ``thor`` backend driving the REAL ``ai2thor.controller.Controller`` against a fake Unity
player (tests/sims/fakes/thor_player.py) that speaks ai2thor's FIFO protocol and renders a small
two-room scene. What these tests prove: the backend's calls, conversions and failure handling
are right for anything speaking that protocol. What they cannot prove: that a real Unity build
renders or behaves the same (see test_thor_integration.py, run where a build is present)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

pytest.importorskip("ai2thor")

from embodied_gym.sims import InfrastructureError, Pose, make_simulator  # noqa: E402
from embodied_gym.sims.thor import frame  # noqa: E402
from embodied_gym.sims.thor.build import explain_start_failure, resolve_executable  # noqa: E402
from embodied_gym.sims.thor.records import procthor_rooms, type_words  # noqa: E402

from .fakes.thor_player import launcher  # noqa: E402
from .fakes.world import World  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def player(tmp_path_factory):
    return launcher(tmp_path_factory.mktemp("thor"))


@pytest.fixture()
def wire(tmp_path, monkeypatch):
    """The actions the fake player received, read back from its log."""
    log = tmp_path / "actions.jsonl"
    monkeypatch.setenv("FAKE_THOR_LOG", str(log))

    def read() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return read


@pytest.fixture()
def sim(player, wire):
    s = make_simulator("thor", local_executable_path=player, x_display=":0", width=300, height=300, timeout=20.0)
    yield s
    s.close()


def test_contract_reset_gives_300x300_rgb_and_ids_matching_objects(sim, wire):
    obs = sim.reset("FloorPlan1")
    assert obs.rgb.shape == (300, 300, 3) and obs.rgb.dtype == np.uint8
    assert obs.depth is not None and obs.depth.shape == (300, 300)
    ids = set(np.unique(obs.segmentation).tolist()) - {0}
    assert ids and ids <= set(obs.objects)
    reset = [a for a in wire() if a["action"] == "Reset"]
    assert reset and reset[-1]["sceneName"] == "FloorPlan1_physics"
    init = [a for a in wire() if a["action"] == "Initialize"][-1]
    assert init["renderInstanceSegmentation"] and init["renderDepthImage"] and init["gridSize"] == 0.25


def test_segmentation_is_thors_instance_mask_per_object(sim):
    """Every visible object's id mask equals ai2thor's own instance mask for its objectId."""
    obs = sim.reset("FloorPlan1")
    event = sim._controller.last_event
    checked = 0
    for oid, rec in obs.objects.items():
        thor_mask = event.instance_masks.get(sim._ids.name(oid)) if hasattr(event.instance_masks, "get") else None
        if thor_mask is None:
            thor_mask = np.zeros_like(obs.segmentation, dtype=bool)
        assert np.array_equal(obs.segmentation == oid, thor_mask), rec.name
        checked += bool(rec.visible)
    assert checked >= 1


def test_depth_is_metres_to_the_door_ahead(sim):
    """The agent starts 1.22 m from the door's face, looking at it: the centre depth says so."""
    obs = sim.reset("FloorPlan1")
    h, w = obs.depth.shape
    assert obs.depth[h // 2, w // 2] == pytest.approx(0.72 - (-0.5), abs=0.01)


def test_turn_left_sends_rotate_left_and_turns_counter_clockwise(sim, wire):
    p0 = sim.reset("FloorPlan1").agent
    obs = sim.step("TurnLeft")
    sent = wire()[-1]
    assert sent["action"] == "RotateLeft" and sent["degrees"] == 30.0
    assert obs.last_action_success
    assert (obs.agent.yaw - p0.yaw) % 360 == pytest.approx(30.0)
    assert sim._controller.last_event.metadata["agent"]["rotation"]["y"] == pytest.approx(60.0)  # THOR: clockwise


def test_move_forward_goes_along_the_pose_heading(sim, wire):
    obs = sim.reset("FloorPlan1")
    assert obs.agent.yaw == pytest.approx(0.0)  # THOR rotation 90 (facing +x) is yaw 0
    obs = sim.step("MoveForward")
    assert wire()[-1] == {**wire()[-1], "action": "MoveAhead", "moveMagnitude": 0.25}
    assert (obs.agent.x, obs.agent.z) == pytest.approx((-0.25, 0.0))


def test_pick_object_picks_the_visible_pickable_object_in_reach(sim, wire):
    sim.reset("FloorPlan1")
    apple = next(o for o in sim.objects().values() if o.category == "apple")
    ax, _, az = apple.position
    x, z = -1.2, -0.5  # THOR (x=-1.2, z=0.5): 0.7 m in front of the table, looking at the apple
    yaw = math.degrees(math.atan2(-(az - z), ax - x))
    obs = sim.teleport(Pose(x, 0.0, z, yaw, -30.0))
    assert obs.last_action_success and obs.objects[apple.id].visible
    obs = sim.step("PickObject")
    assert obs.last_action_success, obs.error
    assert obs.held_object == apple.id and obs.objects[apple.id].held
    sent = wire()[-1]
    assert sent["action"] == "PickupObject" and sent["objectId"].startswith("Apple|")
    obs = sim.step("DropObject")
    assert obs.last_action_success and wire()[-1]["action"] == "PutObject" and wire()[-1]["objectId"].startswith("DiningTable|")
    assert obs.objects[apple.id].on == next(o.id for o in obs.objects.values() if o.category == "dining table")


def test_walking_into_a_wall_is_a_failed_step_with_thors_message(sim):
    sim.reset("FloorPlan1")
    for _ in range(10):
        obs = sim.step("MoveForward")
        if not obs.last_action_success:
            break
    assert not obs.last_action_success
    assert "blocking Agent" in obs.error and "MoveForward" in obs.error


def test_a_refused_look_is_a_failed_step_not_an_exception(sim):
    sim.reset("FloorPlan1")
    assert sim.step("LookUp").last_action_success  # horizon -30: THOR's limit
    obs = sim.step("LookUp")
    assert not obs.last_action_success and "THOR LookUp" in obs.error


def test_reachable_positions_come_from_get_reachable_positions(sim, wire):
    sim.reset("FloorPlan1")
    pts = sim.reachable_positions()
    assert any(a["action"] == "GetReachablePositions" for a in wire())
    expected = World(300, 300).reachable()  # the fake's own answer, in THOR's frame
    assert sorted(map(tuple, np.round(pts, 6).tolist())) == sorted((round(p["x"], 6), round(-p["z"], 6) + 0.0) for p in expected)


def test_open_door_opens_it_and_reachable_positions_grow(sim, wire):
    sim.reset("FloorPlan1")
    before = len(sim.reachable_positions())
    obs = sim.teleport(Pose(0.0, 0.0, 0.0, 0.0, 0.0))
    obs = sim.step("OpenDoor")
    assert obs.last_action_success, obs.error
    assert wire()[-1]["action"] == "OpenObject" and wire()[-1]["objectId"].startswith("Doorway|")
    assert len(sim.reachable_positions()) > before


@pytest.mark.parametrize("fault", ["hang", "die"])
def test_dead_or_hung_unity_is_an_infrastructure_failure_and_is_restarted(player, tmp_path, monkeypatch, fault):
    fault_file = tmp_path / "fault"
    monkeypatch.setenv("FAKE_THOR_FAULT_FILE", str(fault_file))
    sim = make_simulator("thor", local_executable_path=player, x_display=":0", width=64, height=64, timeout=4.0)
    try:
        sim.reset("FloorPlan1")
        pid = sim._controller.server.unity_proc.pid
        fault_file.write_text(fault)
        with pytest.raises(InfrastructureError) as err:
            sim.step("MoveForward")
        assert err.value.restarted and err.value.backend == "thor"
        assert sim._controller.server.unity_proc.pid != pid  # a new Unity process
        obs = sim.step("MoveForward")  # the simulator works again, on the same scene
        assert obs.last_action_success and sim.scene == "FloorPlan1"
    finally:
        sim.close()


def test_frame_conversion_round_trips_and_matches_thor_headings():
    for r in (0.0, 30.0, 90.0, 181.0, 359.0):
        assert frame.rotation_from_yaw(frame.yaw_from_rotation(r)) == pytest.approx(r % 360)
        fwd = Pose(0, 0, 0, frame.yaw_from_rotation(r)).forward  # THOR's forward is (sin r, cos r) in (x, z_thor)
        assert (fwd[0], -fwd[2]) == pytest.approx((math.sin(math.radians(r)), math.cos(math.radians(r))), abs=1e-9)
    assert frame.position_from_thor(frame.position_to_thor(1.0, 2.0, 3.0)) == (1.0, 2.0, 3.0)
    p = frame.pose_from_agent({"position": {"x": 1, "y": frame.AGENT_ORIGIN_HEIGHT, "z": 2}, "rotation": {"y": 0},
                               "cameraHorizon": 30})
    assert (p.x, p.y, p.z, p.yaw, p.pitch) == pytest.approx((1, 0, -2, 90, -30))


def test_build_resolution_errors_name_the_missing_piece(tmp_path, monkeypatch):
    monkeypatch.delenv("AI2THOR_BUILD_PATH", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(ValueError, match="not an executable"):
        resolve_executable({"local_executable_path": str(tmp_path / "missing")})
    exe = tmp_path / "thor"
    exe.write_text("#!/bin/sh\n")
    os.chmod(exe, 0o755)
    with pytest.raises(ValueError, match="x_display"):
        resolve_executable({"local_executable_path": str(exe)})
    monkeypatch.setenv("AI2THOR_BUILD_PATH", str(exe))
    assert resolve_executable({"x_display": ":0"})["local_executable_path"] == str(exe)
    msg = explain_start_failure(Exception("No build exists for arch=Linux platforms=Linux64"), None, None)
    assert "local_executable_path" in msg and "AI2THOR_BUILD_PATH" in msg and ".ai2thor/releases" in msg
    assert "Vulkan" in explain_start_failure(RuntimeError("x"), "CloudRendering", None) or os.path.exists("/usr/share/vulkan")
    with pytest.raises(ValueError, match="platform"):
        make_simulator("thor", local_executable_path=str(exe), x_display=":0", platform="Windows95").reset()


def test_procthor_rooms_and_names():
    house = {"rooms": [{"id": "room|2", "roomType": "Kitchen", "floorPolygon": [
        {"x": 0, "y": 0, "z": 0}, {"x": 4, "y": 0, "z": 0}, {"x": 4, "y": 0, "z": 3}, {"x": 0, "y": 0, "z": 3}]}]}
    (room,) = procthor_rooms(house)
    assert room.kind == "kitchen" and room.bounds == (0.0, -3.0, 4.0, 0.0)
    assert type_words("DiningTable") == "dining table" and type_words("TVStand") == "t v stand"


def test_unknown_keyword_is_named_and_initialize_parameters_pass_through(player):
    with pytest.raises(TypeError, match=r"unknown argument 'fov'.*accepted: .*gridSize"):
        make_simulator("thor", local_executable_path=player, x_display=":0", fov=90)
    sim = make_simulator("thor", local_executable_path=player, x_display=":0", width=64, height=64,
                         agentMode="default", initialize={"someNewUnityFlag": True})
    try:
        sim.reset("FloorPlan1")
        assert sim._controller.initialization_parameters["agentMode"] == "default"
        assert sim._controller.initialization_parameters["someNewUnityFlag"] is True
    finally:
        sim.close()


def test_procthor_house_dict_is_created_and_gives_its_rooms(sim, wire):
    """A ProcTHOR house goes through ai2thor's Reset("Procedural") + CreateHouse; rooms come from
    its floor polygons (the fake builds its own two rooms whatever the dict holds)."""
    house = {"rooms": [
        {"id": "room|1", "roomType": "Kitchen", "floorPolygon": [{"x": -2.5, "y": 0, "z": -2}, {"x": 0.75, "y": 0, "z": -2},
                                                                 {"x": 0.75, "y": 0, "z": 2}, {"x": -2.5, "y": 0, "z": 2}]},
        {"id": "room|2", "roomType": "LivingRoom", "floorPolygon": [{"x": 0.75, "y": 0, "z": -2}, {"x": 2.5, "y": 0, "z": -2},
                                                                    {"x": 2.5, "y": 0, "z": 2}, {"x": 0.75, "y": 0, "z": 2}]}],
        "objects": [], "doors": [], "walls": []}
    obs = sim.reset(house)
    sent = [a["action"] for a in wire()]
    assert "CreateHouse" in sent and any(a.get("sceneName") == "Procedural" for a in wire())
    assert [r.kind for r in sim.rooms()] == ["kitchen", "living_room"]
    assert obs.room == "room|1" and sim.scene == house
    apple = next(o for o in obs.objects.values() if o.category == "apple")
    assert apple.room == "room|1"


def test_geodesic_to_an_object_on_furniture_adds_the_last_reach(sim):
    """The apple lies on the table, off the navigable grid: the path ends at the navigable point
    nearest to it and the geodesic adds the straight remainder (so SPL and reach subgoals measure
    up to the object, not to the grid's edge)."""
    sim.reset("FloorPlan1")
    apple = next(o for o in sim.objects().values() if o.category == "apple")
    start = sim.pose
    path = sim.shortest_path(start, apple.position)
    assert path
    end = path[-1]
    gap = math.hypot(end[0] - apple.position[0], end[1] - apple.position[2])
    assert gap > 0.3  # truly off the grid
    assert sim.geodesic_distance(start, apple.position) == pytest.approx(
        sum(math.dist(a, b) for a, b in zip(path, path[1:], strict=False)) + gap)
    assert sim.geodesic_distance(start, (1e4, 0.0, 1e4)) == math.inf


def test_a_stripped_down_player_still_gives_the_contract(player, monkeypatch):
    """Any program speaking the FIFO protocol: a player without depth, camera pose, object boxes,
    names or types, and without GetReachablePositions / TeleportFull, still gives 300x300 frames,
    ids matching the records, TurnLeft and PickObject (no rooms, no navigation: those raise)."""
    monkeypatch.setenv("FAKE_THOR_MINIMAL", "1")
    sim = make_simulator("thor", local_executable_path=player, x_display=":0", width=300, height=300, timeout=20.0)
    try:
        obs = sim.reset("FloorPlan1")
        assert obs.rgb.shape == (300, 300, 3) and obs.depth is None and sim.rooms() == []
        ids = set(np.unique(obs.segmentation).tolist()) - {0}
        assert ids and ids <= set(obs.objects)
        assert {o.category for o in obs.objects.values()} >= {"apple", "doorway"}  # types from the objectIds
        yaw = obs.agent.yaw
        assert (sim.step("TurnLeft").agent.yaw - yaw) % 360 == pytest.approx(30.0)
        # walk to THOR (-1.25, 0.5), 0.7 m in front of the apple on the table, facing it, looking down
        for action in ["TurnLeft"] * 2 + ["MoveForward"] * 2 + ["TurnLeft"] * 3 + ["MoveForward"] * 3 + \
                ["TurnRight"] * 3 + ["LookDown"]:
            obs = sim.step(action)
            assert obs.last_action_success, obs.error
        picked = sim.step("PickObject")
        assert picked.last_action_success, picked.error
        assert picked.objects[picked.held_object].category == "apple"
        with pytest.raises(ValueError, match="GetReachablePositions"):
            sim.reachable_positions()
    finally:
        sim.close()
