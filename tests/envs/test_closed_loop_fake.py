"""ClosedLoopEnv logic on a tiny deterministic fake simulator (fast; the real ``house`` backend is
exercised in test_closed_loop.py): spaces, invalid actions, feedback, history, shaped reward,
success and episode results."""

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from fake_sim import FakeSim
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embodied_gym  # noqa: F401  (registers the ids)
from embodied_gym.envs.closed_loop import ClosedLoopEnv
from embodied_gym.envs.text_actions import parse_action
from embodied_gym.envs.wrappers import TextAction
from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.rewards.metrics import RESULT_FIELDS
from embodied_gym.sims import BACKENDS, register_backend
from embodied_gym.sims.base import Pose

CLOSED_LOOP_IDS = ["EmbodiedTask-v0", "EmbraceExploration-v0", "EmbraceSpatial-v0", "EmbraceMultiStage-v0", "EmbraceInteraction-v0"]


@pytest.fixture(autouse=True)
def fake_backend():
    register_backend("fake", f"{FakeSim.__module__}:FakeSim")
    yield
    BACKENDS.pop("fake", None)


def ep(eid, category, subgoals, max_steps=20, start=(1.0, 0.0, 1.0, 0.0)):
    return Episode(eid, "fake", {"fake": True}, Pose(*start), f"Task {eid}: go and do it.", category, subgoals, max_steps)


BALL = Subgoal("reach_object", target=1, radius=0.6)
EPISODES = [
    ep("reach", "exploration", [BALL]),
    ep("spatial", "spatial_semantic", [Subgoal("reach_pose", pose=Pose(1.0, 0.0, 3.0), radius=0.5)]),
    ep("multi", "multi_stage", [BALL, Subgoal("reach_object", target=2, radius=0.8)]),
    ep("door", "open_door", [Subgoal("open", target=3)]),
    ep("pick", "pick_drop", [Subgoal("pick", target=1), Subgoal("place", target=1, receptacle=2)], max_steps=40),
]


def make(**kw):
    kw.setdefault("width", 32)
    kw.setdefault("height", 24)
    return ClosedLoopEnv(kw.pop("episodes", EPISODES), backend="fake", **kw)


@pytest.mark.parametrize("env_id", CLOSED_LOOP_IDS)
def test_check_env_passes_for_every_registered_id(env_id):
    env = gym.make(env_id, episodes=EPISODES, backend="fake", width=32, height=24, history=2)
    assert env.metadata["family"] == "closed_loop"
    check_env(env.unwrapped)
    env.close()


def test_per_category_ids_filter_episodes():
    inter = gym.make("EmbraceInteraction-v0", episodes=EPISODES, backend="fake")
    assert [e.category for e in inter.unwrapped.episodes] == ["open_door", "pick_drop"]
    assert len(gym.make("EmbodiedTask-v0", episodes=EPISODES, backend="fake").unwrapped.episodes) == 5
    with pytest.raises(ValueError, match="no episodes"):
        make(episodes=EPISODES[:1], categories=["pick_drop"])
    with pytest.raises(ValueError, match="'reach'.*backend"):
        ClosedLoopEnv(EPISODES, backend="house")


def test_reset_selects_by_episode_id_seed_or_cycle():
    env = make()
    assert env.reset(options={"episode_id": "door"})[1]["episode_id"] == "door"
    assert env.reset(seed=7)[1]["episode_id"] == EPISODES[7 % 5].id
    ids = [e.id for e in EPISODES]
    assert [env.reset()[1]["episode_id"] for _ in range(5)] == ids[3:] + ids[:3], "cycles on from the last one"
    assert env.reset(options={"episode_id": "reach"}) and env.reset()[1]["episode_id"] == "spatial"
    with pytest.raises(ValueError, match="'nope'"):
        env.reset(options={"episode_id": "nope"})


def walk(env, actions):
    out = None
    for a in actions:
        out = env.step(a)
    return out


def test_success_reward_and_episode_result_fields():
    env = make()
    obs, _ = env.reset(options={"episode_id": "reach"})
    assert obs["instruction"] == "Task reach: go and do it." and obs["step"] == 0 and obs["feedback"] == ""
    obs, reward, term, trunc, info = walk(env, ["MoveForward"] * 6 + ["Finish"])
    assert term and not trunc and reward == 1.0 and info["success"]
    res = info["episode_result"]
    assert set(RESULT_FIELDS) <= set(res) and json.dumps(res)
    assert res["success"] and res["steps"] == 7 and res["invalid_actions"] == 0 and res["subgoal_completion"] == 1.0
    assert res["gde"] == pytest.approx(0.5) and res["gde_euclidean"] == pytest.approx(0.5)
    assert res["path_length"] == pytest.approx(1.5)
    assert res["shortest_path_length"] == pytest.approx(2.0 - 0.6), "geodesic chain minus the success radius"
    assert res["spl"] == pytest.approx(1.4 / 1.5)
    assert 0.0 < res["coverage"] < 1.0
    with pytest.raises(RuntimeError):
        env.step(0)


def test_finish_away_from_goal_fails_and_truncation_at_max_steps():
    env = make()
    env.reset(options={"episode_id": "reach"})
    _, reward, term, _, info = env.step("Finish")
    assert term and reward == 0.0 and not info["episode_result"]["success"] and info["episode_result"]["spl"] == 0.0
    env.reset(options={"episode_id": "reach"})
    _, _, term, trunc, info = walk(env, ["TurnLeft"] * 20)
    assert trunc and not term and info["episode_result"]["steps"] == 20 and not info["episode_result"]["success"]


def test_multi_stage_needs_subgoals_in_order():
    env = make()
    env.reset(options={"episode_id": "multi"})
    # straight to the desk (second subgoal) first: turn to face +z (yaw 270) and walk
    *_, info = walk(env, ["TurnRight"] * 3 + ["MoveForward"] * 7 + ["Finish"])
    assert info["privileged"]["subgoals_met"] == 0 and not info["success"]


def test_pick_and_place_interaction():
    env = make()
    env.reset(options={"episode_id": "pick"})
    walk(env, ["MoveForward"] * 4)  # x = 2.0, ball at 3.0 within reach
    _, _, _, _, info = env.step("PickObject")
    assert info["feedback"] == "PickObject succeeded" and info["privileged"]["subgoals_met"] == 1
    walk(env, ["TurnRight"] * 3 + ["MoveForward"] * 6 + ["TurnRight"] * 3 + ["MoveForward"] * 4)
    _, _, _, _, info = env.step("DropObject")
    assert info["privileged"]["subgoals_met"] == 2
    _, reward, term, _, info = env.step("Finish")
    assert term and reward == 1.0 and info["success"]


def test_feedback_reports_simulator_errors():
    env = make()
    env.reset(options={"episode_id": "reach"})
    _, _, _, _, info = env.step("PickObject")
    assert info["feedback"] == "PickObject failed: nothing to pick up in reach" and info["action_success"] is False
    obs, *_ = walk(env, ["TurnLeft"] * 3 + ["MoveForward"] * 4)  # walk into the west wall
    assert obs["feedback"] == "MoveForward failed: blocked", "what the agent bumped into is not named"


@pytest.mark.parametrize("bad", [99, -1, "fly", None, "turn left"])
def test_invalid_action_noop_is_recorded_and_counts(bad):
    env = make()
    obs0, _ = env.reset(options={"episode_id": "reach"})
    obs, reward, term, trunc, info = env.step(bad)
    assert info["invalid_action"] and info["action"] is None and "raw_action" in info
    assert obs["feedback"].startswith("invalid action:") and obs["step"] == 1
    assert not term and not trunc and reward == 0.0
    assert np.array_equal(obs["image"], obs0["image"]), "a no-op leaves the world unchanged"
    *_, info = walk(env, ["Finish"])
    assert info["episode_result"]["invalid_actions"] == 1 and info["episode_result"]["steps"] == 2


def test_invalid_action_fail_ends_episode_as_failure():
    env = make(invalid_action="fail")
    env.reset(options={"episode_id": "reach"})
    _, reward, term, _, info = env.step("dance")
    assert term and reward == 0.0 and info["invalid_action"]
    assert info["episode_result"]["success"] is False and info["episode_result"]["invalid_actions"] == 1
    with pytest.raises(ValueError, match="invalid_action"):
        make(invalid_action="explode")


def test_history_holds_previous_frames_oldest_first():
    env = make(history=2)
    obs0, _ = env.reset(options={"episode_id": "reach"})
    assert obs0["history"].shape == (2, 24, 32, 3) and not obs0["history"].any(), "black before the start"
    obs1, *_ = env.step("MoveForward")
    assert np.array_equal(obs1["history"][-1], obs0["image"]) and not obs1["history"][0].any()
    obs2, *_ = env.step("TurnLeft")
    assert np.array_equal(obs2["history"][0], obs0["image"]) and np.array_equal(obs2["history"][1], obs1["image"])
    assert "history" not in make().reset()[0]


def test_shaped_reward_sign():
    """Shaped reward is +scale*metres when moving toward the goal, negative moving away, 0 turning; sparse (0) by default."""
    env = make(shaped_reward=True, shaping_scale=1.0)
    env.reset(options={"episode_id": "reach"})
    _, toward, *_ = env.step("MoveForward")
    _, away, *_ = env.step("MoveBackward")
    _, turn, *_ = env.step("TurnLeft")
    assert toward == pytest.approx(0.25) and away == pytest.approx(-0.25) and turn == 0.0
    plain = make()
    plain.reset(options={"episode_id": "reach"})
    assert plain.step("MoveForward")[1] == 0.0, "sparse by default"


def test_text_action_wrapper():
    """TextAction: a Text action space; a parsable reply acts, an unparsable one is a recorded no-op, or ends the episode as a failure with invalid_action='fail'."""
    env = TextAction(make())
    assert isinstance(env.action_space, gym.spaces.Text)
    env.reset(options={"episode_id": "reach"})
    _, _, _, _, info = env.step("<answer>move forward</answer>")
    assert info["action"] == "MoveForward" and not info["invalid_action"] and info["raw_action"] == "<answer>move forward</answer>"
    obs, _, term, _, info = env.step("I am not sure what to do")
    assert info["invalid_action"] and info["raw_action"] == "I am not sure what to do" and not term
    assert obs["feedback"].startswith("invalid action")
    failing = TextAction(make(invalid_action="fail"))
    failing.reset(options={"episode_id": "reach"})
    _, _, term, _, info = failing.step("???")
    assert term and info["episode_result"]["success"] is False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_text_action_wrapper_never_raises(reply):
    env = TextAction(make())
    env.reset(options={"episode_id": "reach"})
    obs, reward, term, trunc, info = env.step(reply)
    assert info["raw_action"] == reply and isinstance(info["invalid_action"], bool)
    assert info["invalid_action"] == (parse_action(reply) is None)
    assert obs in env.observation_space


def test_import_registers_ids_without_loading_a_backend():
    code = "import sys, gymnasium as gym, embodied_gym; ids = [i for i in gym.registry if i.startswith(('Embrace', 'EmbodiedTask'))]; print(len(ids), 'miniworld' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["6", "False"]  # 5 closed-loop ids + EmbraceReplay-v0


def test_info_keeps_task_progress_under_privileged_only():
    """Before the end, nothing public in ``info`` changes as the agent meets subgoals: progress
    is only in ``info["privileged"]`` (the evaluator's view)."""
    env = make()
    env.reset(options={"episode_id": "pick"})
    public = []
    for a in ["MoveForward"] * 4 + ["PickObject", "TurnLeft"]:
        _, _, _, _, info = env.step(a)
        public.append({k: v for k, v in info.items() if k not in ("privileged", "action", "feedback", "action_success", "step")})
    assert all(p == public[0] for p in public), public
    assert info["privileged"]["subgoals_met"] == 1 and not info["privileged"]["finish_would_succeed"]


def test_public_reason_names_no_object_or_room():
    from embodied_gym.envs.closed_loop import public_reason
    from embodied_gym.sims.base import ObjectInfo, RoomInfo

    objects = {3: ObjectInfo(3, "key", "the red key"), 4: ObjectInfo(4, "door", "the blue door between the Kitchen and the Office", kind="door")}
    rooms = [RoomInfo("r0", "kitchen", "Kitchen", (0, 0, 1, 1))]
    assert public_reason("MoveForward", "blocked by the blue door between the Kitchen and the Office", objects, rooms) == "blocked"
    assert public_reason("PickObject", "already holding the red key", objects, rooms) == "already holding an object"
    assert public_reason("OpenDoor", "the blue door between the Kitchen and the Office is locked", objects, rooms) == "a door is locked"
    assert public_reason("TurnLeft", None, objects, rooms) is None
