"""Integration tests against REAL simulators, run only where one is present:

* AI2-THOR: ``AI2THOR_BUILD_PATH`` names a Unity build executable (plus an X display in
  ``DISPLAY``, or ``AI2THOR_PLATFORM=CloudRendering`` with Vulkan);
* UnrealCV: ``UNREALCV_ADDRESS`` (``host:port``) names a running UnrealCV server.

They prove what the stand-in tests cannot: a real build/level answers the backend's calls the
way the fakes do (frames, ids, motion). Elsewhere they skip, saying which variable is unset.
Nothing here downloads a build.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from embodied_gym.sims import make_simulator

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

THOR_BUILD = os.environ.get("AI2THOR_BUILD_PATH")
UNREALCV_ADDRESS = os.environ.get("UNREALCV_ADDRESS")


@pytest.mark.skipif(not THOR_BUILD, reason="no real AI2-THOR build: set AI2THOR_BUILD_PATH to a Unity build executable")
def test_real_thor_floorplan1_frames_ids_and_motion():
    kwargs = {"platform": os.environ["AI2THOR_PLATFORM"]} if os.environ.get("AI2THOR_PLATFORM") else {}
    with make_simulator("thor", local_executable_path=THOR_BUILD, x_display=os.environ.get("DISPLAY", ":0"),
                        width=300, height=300, **kwargs) as sim:
        obs = sim.reset("FloorPlan1")
        assert obs.rgb.shape == (300, 300, 3) and obs.rgb.std() > 5
        ids = set(np.unique(obs.segmentation).tolist()) - {0}
        assert ids and ids <= set(obs.objects)
        assert len(sim.reachable_positions()) > 50
        yaw = obs.agent.yaw
        assert (sim.step("TurnLeft").agent.yaw - yaw) % 360 == pytest.approx(30.0)
        for _ in range(60):
            obs = sim.step("MoveForward")
            if not obs.last_action_success:
                break
        assert not obs.last_action_success and obs.error


@pytest.mark.skipif(not UNREALCV_ADDRESS, reason="no real UnrealCV server: set UNREALCV_ADDRESS=host:port")
def test_real_unrealcv_level_frames_ids_and_motion():
    with make_simulator("unrealcv", address=UNREALCV_ADDRESS, nav_extent=4.0) as sim:
        obs = sim.reset()
        assert obs.rgb.ndim == 3 and obs.rgb.std() > 1
        ids = set(np.unique(obs.segmentation).tolist()) - {0}
        assert ids <= set(obs.objects)
        yaw = obs.agent.yaw
        assert (sim.step("TurnLeft").agent.yaw - yaw) % 360 == pytest.approx(30.0)
