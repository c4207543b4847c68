"""Unreal pose conversion (sims/unreal_frame.py): units, axes and handedness are right, checked
against motion recorded in a real EmbRACE-3K episode (Basic/x01637_y00244_z0098_i4)."""

import math

import pytest

from embodied_gym.sims.base import Pose
from embodied_gym.sims.unreal_frame import (
    location_from_unreal,
    location_to_unreal,
    pose_from_unreal,
    pose_to_unreal,
    rotation_from_unreal,
    unreal_roll,
    wrap_degrees,
)

# three consecutive Trajectory_Pose entries of the real episode: MoveForward, MoveForward, TurnRight
P0 = [1637.431, 243.935, 98.226, 0.0, -27.141, 0.0]
P1 = [1851.241, 134.33, 98.226, 0.0, -27.141, 0.0]
P3 = [2041.717, 21.554, 116.779, 0.0, 1.993, 0.0]
P2 = [2041.717, 21.554, 116.779, 0.0, -27.141, 0.0]


def test_centimetres_become_metres_and_z_up_becomes_y_up():
    assert location_from_unreal([100.0, 250.0, 30.0]) == pytest.approx((1.0, 0.3, 2.5))
    assert location_to_unreal(1.0, 0.3, 2.5) == pytest.approx((100.0, 250.0, 30.0))


def test_recorded_move_forward_goes_along_the_converted_heading():
    """A recorded MoveForward displaces the camera along Pose.forward of the converted pose:
    proves the yaw sign and the axis swap agree (a wrong handedness would mirror the step)."""
    a, b = pose_from_unreal(P0), pose_from_unreal(P1)
    dx, dz = b.x - a.x, b.z - a.z
    length = math.hypot(dx, dz)
    assert length == pytest.approx(2.41, abs=0.01)  # about EmbRACE-3K's 2 m+ step
    fx, _, fz = a.forward
    assert dx / length == pytest.approx(fx, abs=1e-3)
    assert dz / length == pytest.approx(fz, abs=1e-3)


def test_recorded_turn_right_is_clockwise_in_the_simulator_frame():
    """TurnRight raises Unreal's yaw (clockwise seen from above); our yaw is counter-clockwise, so it drops."""
    before, after = pose_from_unreal(P2), pose_from_unreal(P3)
    assert wrap_degrees(after.yaw - before.yaw) == pytest.approx(-29.134, abs=1e-3)


def test_round_trip_is_exact_and_roll_is_kept_apart():
    raw = [-358.085, -1757.412, 98.867, 12.5, -175.785, 176.79]
    pose = pose_from_unreal(raw)
    assert isinstance(pose, Pose) and pose.pitch == 12.5
    assert pose_to_unreal(pose, roll=unreal_roll(raw)) == pytest.approx(raw)
    assert rotation_from_unreal(0.0, 180.0) == (-180.0, 0.0)


@pytest.mark.parametrize("bad", [[1, 2, 3], [1, 2, 3, 4, 5, float("nan")], ["a", 2, 3, 4, 5, 6], None])
def test_malformed_poses_raise_value_error_naming_the_value(bad):
    with pytest.raises(ValueError, match="Unreal pose"):
        pose_from_unreal(bad)
