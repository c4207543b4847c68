"""Failure attribution on real ClosedLoopEnv episodes (fake simulator with exact visibility): one
episode built to trigger each primary mode of :mod:`embodied_gym.rewards.failures`, the rule order
(the first rule that holds wins, the rest are flags), and that successes carry no mode."""

import math

import numpy as np
import pytest
from fake_sim import FakeSim

from embodied_gym.envs.closed_loop import ClosedLoopEnv
from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.rewards.failures import FAILURE_MODES, summarize_failures
from embodied_gym.sims import BACKENDS, register_backend
from embodied_gym.sims.base import ObjectInfo, Pose


class SeeingSim(FakeSim):
    """FakeSim plus a rival blue ball at (1.0, 3.5) and exact visibility: an object is visible when
    it projects inside the frame in front of the camera and is not held."""

    name = "fake_seeing"

    def reset(self, scene=None, *, seed=None):
        super().reset(scene, seed=seed)
        self._objs[4] = ObjectInfo(4, "ball", "the blue ball", color="blue", position=(1.0, 0.2, 3.5), pickable=True)
        return self.observe()

    def _obs(self, action=None, ok=True, error=None):
        obs = super()._obs(action, ok, error)
        objs = list(obs.objects.values())
        uv, front = self.project(np.array([o.position for o in objs]))
        for o, (u, _), f in zip(objs, uv, front, strict=True):
            o.visible = bool(f and math.isfinite(u) and 0 <= u < self.width and not o.held)
            o.pixel_count = 10 if o.visible else 0
        return obs


@pytest.fixture(autouse=True)
def seeing_backend():
    register_backend("fake_seeing", f"{__name__}:SeeingSim")
    yield
    BACKENDS.pop("fake_seeing", None)


RED = Subgoal("reach_object", target=1, radius=0.6)
DESK = Subgoal("reach_object", target=2, radius=0.8)


def episode(eid, subgoals, yaw=0.0, max_steps=12, category="basic"):
    return Episode(eid, "fake_seeing", {"fake": True}, Pose(1.0, 0.0, 1.0, yaw), "Go to the red ball.", category,
                   subgoals, max_steps)


def run(ep, actions):
    env = ClosedLoopEnv([ep], backend="fake_seeing", width=32, height=24)
    env.reset(seed=0)
    info = {}
    for a in actions:
        _, _, term, trunc, info = env.step(a)
        if term or trunc:
            break
    env.close()
    return info["episode_result"]


CASES = {
    "invalid_output": (episode("inv", [RED]), ["no idea"] * 12),
    "premature_finish": (episode("fin", [RED]), ["Finish"]),
    "wrong_order": (episode("order", [RED, DESK], category="multi_stage"),
                    ["TurnRight"] * 3 + ["MoveForward"] * 7 + ["Finish"]),
    "interaction_failed": (episode("pick", [Subgoal("pick", target=1)], category="pick_drop"),
                           ["MoveForward"] * 4 + ["Finish"]),
    "wrong_referent": (episode("rival", [RED], category="spatial_semantic", max_steps=20),
                       ["TurnRight"] * 3 + ["MoveForward"] * 9 + ["Finish"]),
    "never_saw_target": (episode("behind", [RED], yaw=180.0, category="exploration"), ["MoveForward"] * 2 + ["Finish"]),
    "lost_target": (episode("lost", [RED], category="exploration"), ["MoveForward"] + ["TurnLeft"] * 6 + ["Finish"]),
    "out_of_steps": (episode("slow", [RED]), ["MoveForward", "MoveBackward"] * 6),
}


@pytest.mark.parametrize("mode", sorted(CASES))
def test_episode_built_for_a_mode_gets_that_primary_mode(mode):
    ep, actions = CASES[mode]
    result = run(ep, actions)
    assert not result["success"]
    assert result["failure_mode"] == mode, result["failure_evidence"]
    assert mode not in result["failure_flags"]


def test_every_mode_has_a_case():
    assert set(CASES) == set(FAILURE_MODES)


def test_finish_far_away_after_walking_is_the_general_premature_finish():
    """Finish after two steps with the target in view: no earlier rule holds (rule 8)."""
    result = run(episode("walk", [RED]), ["MoveForward", "MoveForward", "Finish"])
    assert result["failure_mode"] == "premature_finish" and result["failure_flags"] == []


def test_secondary_flags_keep_the_rules_that_also_hold():
    """Never seeing the target and then finishing: exploration wins, premature finish is a flag."""
    ep, actions = CASES["never_saw_target"]
    assert run(ep, actions)["failure_flags"] == ["premature_finish"]
    ep, actions = CASES["out_of_steps"]
    assert run(ep, actions)["failure_flags"] == []


def test_success_has_no_mode():
    result = run(episode("ok", [RED]), ["MoveForward"] * 6 + ["Finish"])
    assert result["success"] and result["failure_mode"] is None and result["failure_flags"] == []


def test_summary_counts_each_failed_episode_once_per_category():
    results = [run(*CASES[m]) for m in sorted(CASES)] + [run(episode("ok", [RED]), ["MoveForward"] * 6 + ["Finish"])]
    summary = summarize_failures(results)
    failed = [r for r in results if not r["success"]]
    assert summary["n_failed"] == len(failed) == sum(summary["overall"].values())
    assert summary["overall"] == dict.fromkeys(FAILURE_MODES, 1)
    assert sum(sum(c.values()) for c in summary["by_category"].values()) == len(failed)
