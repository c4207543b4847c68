"""ClosedLoopEnv on the real ``house`` backend: check_env for every registered id, oracle and
demonstration replays succeed, feedback, history, invalid actions, shaped reward and the
episode result record. Episodes are built by hand from a real house's objects (64 x 48 pixels)."""

import json
import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import embodied_gym  # noqa: F401  (registers the ids)
from embodied_gym.envs.wrappers import TextAction
from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.rewards.metrics import RESULT_FIELDS, summarize_closed_loop
from embodied_gym.sims import make_simulator

IDS = {
    "EmbodiedTask-v0": None,
    "EmbraceExploration-v0": {"exploration"},
    "EmbraceSpatial-v0": {"spatial_semantic"},
    "EmbraceMultiStage-v0": {"multi_stage"},
    "EmbraceInteraction-v0": {"open_door", "pick_drop"},
}
SIZE = {"width": 64, "height": 48}


@pytest.fixture(scope="module")
def episodes():
    """One episode per category in house seed 0, targets chosen among what the start can reach."""
    sim = make_simulator("house", seed=0, **SIZE)
    sim.reset(0)
    scene, start, objs = sim.scene, sim.pose, sim.objects()
    dist = {i: sim.geodesic_distance(start, o.position) for i, o in objs.items()}
    movable = sorted((i for i, o in objs.items() if o.pickable and math.isfinite(dist[i])), key=dist.get)
    receptacles = sorted((i for i, o in objs.items() if o.receptacle and math.isfinite(dist[i])), key=dist.get)
    doors = sorted((i for i, o in objs.items() if o.openable and not o.is_open and math.isfinite(dist[i])), key=dist.get)
    sim.close()
    assert len(movable) >= 2 and receptacles and doors, "house seed 0 should offer reachable objects and a door"
    far, near = movable[-1], movable[0]
    # the deepest receptacle top: the oracle's drops can miss thin shelves
    rec = max((r for r in receptacles if objs[far].on != r), key=lambda r: min(objs[r].size[0], objs[r].size[2]))

    def ep(eid, category, text, subgoals, max_steps=150):
        return Episode(eid, "house", scene, start, text, category, subgoals, max_steps)

    def reach(i):
        return Subgoal("reach_object", target=i, radius=1.0)

    return [
        ep("explore", "exploration", f"Find {objs[far].name}.", [reach(far)]),
        ep("spatial", "spatial_semantic", f"Go to {objs[near].name}, the nearest one.", [reach(near)]),
        ep("multi", "multi_stage", f"First go to {objs[near].name}, then to {objs[far].name}.", [reach(near), reach(far)]),
        ep("door", "open_door", f"Open {objs[doors[0]].name}.", [Subgoal("open", target=doors[0])]),
        ep("pick", "pick_drop", f"Put {objs[far].name} on {objs[rec].name}.",
           [Subgoal("pick", target=far), Subgoal("place", target=far, receptacle=rec)], 200),
    ]


@pytest.mark.parametrize("env_id", list(IDS))
def test_check_env_passes_for_every_registered_id(env_id, episodes):
    env = gym.make(env_id, episodes=episodes, history=2, **SIZE)
    assert env.metadata["family"] == "closed_loop"
    cats = {e.category for e in env.unwrapped.episodes}
    assert cats == (IDS[env_id] or {e.category for e in episodes})
    check_env(env.unwrapped)
    env.close()


def run_oracle(env, episode_id):
    obs, _ = env.reset(options={"episode_id": episode_id})
    total, infos = 0.0, []
    while True:
        obs, reward, term, trunc, info = env.step(env.unwrapped.oracle_action())
        total += reward
        infos.append(info)
        if term or trunc:
            return total, infos


def test_oracle_succeeds_on_every_category_with_a_complete_result(episodes):
    env = gym.make("EmbodiedTask-v0", episodes=episodes, **SIZE)
    results = []
    for e in episodes:
        total, infos = run_oracle(env, e.id)
        res = infos[-1]["episode_result"]
        assert res["success"] and total == 1.0 and infos[-1]["action"] == "Finish", e.id
        assert set(RESULT_FIELDS) <= set(res) and json.dumps(res, allow_nan=False)
        assert res["subgoal_completion"] == 1.0 and res["invalid_actions"] == 0 and res["steps"] == len(infos)
        assert 0.0 < res["spl"] <= 1.0 and res["shortest_path_length"] > 0
        assert 0.0 < res["coverage"] < 1.0
        assert res["gde"] is not None and res["gde"] <= 1.6
        results.append(res)
    s = summarize_closed_loop(results)
    assert s["overall"]["success_rate"] == 1.0 and s["overall"]["n"] == 5 and len(s["by_category"]) == 5
    env.close()


def test_demonstration_replay_succeeds_and_sets_the_reference_path(episodes):
    from embodied_gym.episodes.oracle import demonstrate

    sim = make_simulator("house", seed=0, **SIZE)
    ep = episodes[-1]
    ep = Episode(**{**ep.__dict__, "demonstration": demonstrate(sim, ep)})
    sim.close()
    env = gym.make("EmbodiedTask-v0", episodes=[ep], **SIZE)
    env.reset(seed=0)
    for action in ep.demonstration.actions:
        *_, term, trunc, info = env.step(action)
    assert term and info["success"] and info["episode_result"]["success"]
    res = info["episode_result"]
    assert res["shortest_path_length"] <= res["path_length"] + 1e-6
    env.close()


def test_shaped_reward_follows_geodesic_progress(episodes):
    env = gym.make("EmbodiedTask-v0", episodes=episodes, shaped_reward=True, shaping_scale=1.0, **SIZE)
    total, infos = run_oracle(env, "explore")
    assert total > 1.0, "walking the shortest way to the target earns positive shaping on top of success"
    env.reset(options={"episode_id": "explore"})
    rewards = [env.step(a)[1] for a in ("TurnLeft", "TurnRight")]
    assert rewards == [0.0, 0.0], "turning in place does not change the distance"
    sparse = gym.make("EmbodiedTask-v0", episodes=episodes, **SIZE)
    total, infos = run_oracle(sparse, "explore")
    assert total == 1.0 and all(i["success"] for i in infos[-1:])
    env.close()
    sparse.close()


def test_feedback_history_and_invalid_actions(episodes):
    env = TextAction(gym.make("EmbodiedTask-v0", episodes=episodes, history=1, **SIZE))
    obs0, info = env.reset(options={"episode_id": "explore"})
    assert obs0["feedback"] == "" and obs0["step"] == 0 and obs0["instruction"].startswith("Find ")
    assert obs0["history"].shape == (1, 48, 64, 3) and not obs0["history"].any()
    obs1, _, _, _, info = env.step("Action: turn_left")
    assert info["action"] == "TurnLeft" and obs1["feedback"] == "TurnLeft succeeded"
    assert np.array_equal(obs1["history"][0], obs0["image"]) and not np.array_equal(obs1["image"], obs0["image"])
    obs2, _, term, _, info = env.step("hmm, let me think")
    assert info["invalid_action"] and info["raw_action"] == "hmm, let me think" and not term
    assert obs2["feedback"].startswith("invalid action") and obs2["step"] == 2
    assert np.array_equal(obs2["image"], obs1["image"])
    for _ in range(40):  # walk until a wall or furniture stops us
        obs, _, _, _, info = env.step("MoveForward")
        if not info["action_success"]:
            break
    assert obs["feedback"] == "MoveForward failed: blocked", obs["feedback"]
    *_, info = env.step("<answer>Finish</answer>")
    assert info["episode_result"]["invalid_actions"] == 1
    env.close()


def test_invalid_action_fail_mode_ends_episode(episodes):
    env = TextAction(gym.make("EmbodiedTask-v0", episodes=episodes, invalid_action="fail", **SIZE))
    env.reset(seed=1)
    _, reward, term, _, info = env.step("no idea")
    assert term and reward == 0.0 and info["episode_result"]["success"] is False
    env.close()


def test_coverage_grows_when_looking_around(episodes):
    env = gym.make("EmbodiedTask-v0", episodes=episodes, **SIZE)
    env.reset(options={"episode_id": "explore"})
    first = env.unwrapped._coverage.coverage
    for _ in range(11):
        env.step("TurnLeft")
    *_, info = env.step("Finish")
    assert info["episode_result"]["coverage"] > first and info["episode_result"]["coverage"] > 0.02
    env.close()


@pytest.mark.parametrize("env_id", list(IDS))
def test_registered_ids_load_the_official_suite(env_id):
    env = gym.make(env_id, **SIZE)
    cats = {e.category for e in env.unwrapped.episodes}
    assert env.unwrapped.episodes and (IDS[env_id] is None or cats == IDS[env_id])
    obs, _ = env.reset(seed=0)
    assert obs["image"].shape == (48, 64, 3)
    env.close()


def test_official_demonstrations_replay_to_success_through_the_env():
    env = gym.make("EmbodiedTask-v0", **SIZE)
    firsts = {}
    for e in env.unwrapped.episodes:
        firsts.setdefault(e.category, e)
    for e in firsts.values():
        env.reset(options={"episode_id": e.id})
        for action in e.demonstration.actions:
            *_, term, trunc, info = env.step(action)
        assert term and info["episode_result"]["success"], e.id
        assert info["episode_result"]["spl"] > 0.0
    env.close()
