"""The ``unrealcv`` backend driving the REAL ``unrealcv.Client`` against a fake UnrealCV server
(tests/sims/fakes/unrealcv_server.py: UnrealCV's framing -- magic 0x9E2B83C1, length,
``id:command`` -- and command set over a small scene in Unreal units). What these tests prove:
the backend's commands, unit conversions and failure handling are right for anything speaking
that protocol; not that a given Unreal level behaves like the fake (see
test_unrealcv_integration.py, run where ``UNREALCV_ADDRESS`` names a server)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

pytest.importorskip("unrealcv")

from embodied_gym.sims import InfrastructureError, Pose, make_simulator  # noqa: E402
from embodied_gym.sims.unrealcv import PRESETS  # noqa: E402
from embodied_gym.sims.unrealcv.objects import category_of  # noqa: E402

from .fakes.unrealcv_server import MAGIC, FakeUnrealCV, recv_frame, send_frame  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture()
def server():
    s = FakeUnrealCV(width=160, height=120)
    yield s
    s.close()


@pytest.fixture()
def sim(server):
    s = make_simulator("unrealcv", address=("127.0.0.1", server.port), camera_height=1.5759995, nav_cell=0.25,
                       timeout=5.0)
    yield s
    s.close()


def test_the_fake_speaks_unrealcv_framing():
    """Raw bytes: the greeting and a reply are framed as magic, length, ``id:payload``."""
    s = FakeUnrealCV()
    try:
        with socket.create_connection(s.address) as c:
            head = c.recv(8, socket.MSG_WAITALL)
            assert int.from_bytes(head[:4], "little") == MAGIC == 0x9E2B83C1
            assert c.recv(int.from_bytes(head[4:], "little"), socket.MSG_WAITALL).startswith(b"connected")
            send_frame(c, b"7:vget /camera/0/location")
            assert recv_frame(c).startswith(b"7:")
    finally:
        s.close()


def test_contract_reset_gives_rgb_ids_one_per_listed_actor_with_pixels(sim, server):
    obs = sim.reset()
    assert obs.rgb.shape == (120, 160, 3) and obs.rgb.std() > 5
    assert obs.depth is not None and obs.depth.dtype == np.float32
    listed = set(server.handle("vget /objects").split())
    assert {sim._name(i) for i in obs.objects} == listed  # one record per actor of vget /objects
    ids = set(np.unique(obs.segmentation).tolist()) - {0}
    with_pixels = {i for i, o in obs.objects.items() if o.pixel_count > 0}
    assert ids == with_pixels and len(ids) >= 3
    for i in ids:  # each id's pixels are exactly the pixels of that actor's mask colour
        name = sim._name(i)
        r, g, b = server._objects()[name].seg
        _, mask, _ = server.world.render()
        assert np.array_equal(obs.segmentation == i, np.all(mask == (r, g, b), axis=2)), name


def test_depth_is_metres_to_the_door_ahead(sim):
    obs = sim.reset()
    h, w = obs.depth.shape
    assert obs.depth[h // 2, w // 2] == pytest.approx(1.22, abs=0.01)


def test_turn_left_and_move_forward_change_the_camera_on_the_server(sim, server):
    """In the fake, sim (x, z) is Unreal (X, Y) / 100 and THOR-frame (z, x) of its scene."""
    sim.reset()
    rot0 = [float(v) for v in server.handle("vget /camera/0/rotation").split()]
    obs = sim.step("TurnLeft")
    rot1 = [float(v) for v in server.handle("vget /camera/0/rotation").split()]
    assert obs.last_action_success
    assert (rot1[1] - rot0[1]) % 360 == pytest.approx(330.0)  # Unreal yaw is clockwise: left = -30
    assert sim.teleport(Pose(0.0, 0.0, -2.0, 270.0, 0.0)).last_action_success  # 2.3 m free ahead
    loc0 = [float(v) for v in server.handle("vget /camera/0/location").split()]
    obs = sim.step("MoveForward")
    loc1 = [float(v) for v in server.handle("vget /camera/0/location").split()]
    assert obs.last_action_success, obs.error
    assert np.subtract(loc1, loc0) == pytest.approx([0.0, 200.0, 0.0], abs=0.01)  # 2 m along Unreal +Y
    assert (obs.agent.x, obs.agent.z) == pytest.approx((0.0, 0.0))
    assert any(c.startswith("vset /camera/0/moveto") for c in server.log)


def test_embrace3k_preset_moves_two_metres_and_turns_thirty_degrees(sim, server):
    assert (PRESETS["embrace3k"].move_step, PRESETS["embrace3k"].turn_step) == (2.0, 30.0)
    assert (sim.move_step, sim.turn_step) == (2.0, 30.0)  # the default preset
    sim.reset()
    assert sim.teleport(Pose(0.0, 0.0, -2.0, 270.0, 0.0)).last_action_success
    assert sim.step("MoveForward").last_action_success
    obs = sim.step("MoveForward")  # 2 m more would cross the closed door: refused, pose kept
    assert not obs.last_action_success and "blocked" in obs.error
    assert (obs.agent.x, obs.agent.z) == pytest.approx((0.0, 0.0))
    yaw = obs.agent.yaw
    assert (sim.step("TurnRight").agent.yaw - yaw) % 360 == pytest.approx(330.0)


def test_pick_hides_the_actor_and_drop_puts_it_back_in_front(sim, server):
    sim.reset()
    apple = next(o for o in sim.objects().values() if o.category == "apple")
    obs = sim.teleport(Pose(0.5, 0.0, -1.2, 0.0, -45.0))  # 0.7 m from the table, facing it
    assert obs.objects[apple.id].visible, "the apple should be in view"
    obs = sim.step("PickObject")
    assert obs.last_action_success and obs.held_object == apple.id
    assert "vset /object/Apple_1/hide" in server.log
    obs = sim.step("DropObject")
    assert obs.last_action_success and not obs.objects[apple.id].held
    assert "vset /object/Apple_1/show" in server.log


def test_nothing_listening_is_a_clear_error_naming_the_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
        make_simulator("unrealcv", address=("127.0.0.1", port), retries=2, retry_delay=0.05)


@pytest.mark.parametrize("fault", ["hang", "die"])
def test_silent_or_closed_server_is_an_infrastructure_failure(sim, server, fault):
    sim.reset()
    server.fault = fault
    with pytest.raises(InfrastructureError) as err:
        sim.step("TurnLeft")
    assert err.value.backend == "unrealcv"


def test_actor_names_become_categories():
    assert category_of("BP_DiningTable_C_3") == "dining table"
    assert category_of("Apple_1") == "apple" and category_of("SM_Door") == "door"


def test_an_older_server_without_bounds_fov_or_depth_still_gives_the_contract():
    """Any server speaking UnrealCV's protocol: one that answers ``error`` to bounds, object
    rotations, fov, size, depth and the command list still gives RGB, one id per listed actor
    with mask pixels, and TurnLeft / MoveForward moving the camera on the server."""
    server = FakeUnrealCV(width=160, height=120, minimal=True)
    try:
        sim = make_simulator("unrealcv", address=("127.0.0.1", server.port))  # defaults: EmbRACE-3K steps
        obs = sim.reset()
        assert obs.rgb.shape == (120, 160, 3) and obs.depth is None
        ids = set(np.unique(obs.segmentation).tolist()) - {0}
        assert ids == {i for i, o in obs.objects.items() if o.pixel_count > 0} and len(ids) >= 3
        assert {sim._name(i) for i in obs.objects} == set(server.handle("vget /objects").split())
        rot0 = server.handle("vget /camera/0/rotation")
        assert sim.step("TurnLeft").last_action_success and server.handle("vget /camera/0/rotation") != rot0
        loc0 = server.handle("vget /camera/0/location")
        moved = False
        for _ in range(12):  # 2 m steps in a 5 x 4 m room: turn until a heading has room
            if sim.step("MoveForward").last_action_success:
                moved = True
                break
            sim.step("TurnLeft")
        assert moved and server.handle("vget /camera/0/location") != loc0
        sim.close()
    finally:
        server.close()
