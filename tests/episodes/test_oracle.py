"""The oracle: its demonstrations replay to success in a fresh simulator, it recovers from
states an agent left (random actions first), and its rationales are grounded in the frame."""

from __future__ import annotations

import random

import pytest

from embodied_gym.episodes.oracle import demonstrate, next_action, replay_demonstration
from embodied_gym.episodes.rationale import side_of
from embodied_gym.episodes.spec import CATEGORIES
from embodied_gym.rewards.progress import SubgoalTracker, TaskState
from embodied_gym.sims import make_simulator


@pytest.mark.parametrize("category", CATEGORIES)
def test_demonstration_replays_to_success_in_a_fresh_simulator(make_episode, category):
    episode = make_episode(category, 0)
    demo = episode.demonstration
    assert demo.actions[-1] == "Finish" and len(demo.poses) == len(demo.actions) + 1
    assert len(demo.rationales) == len(demo.actions)
    fresh = make_simulator("house", seed=1)
    try:
        assert replay_demonstration(fresh, episode)
        # the recorded poses are the poses the replay passes through
        fresh.reset(episode.scene)
        fresh.teleport(episode.start_pose)
        for action, pose in zip(demo.actions[:-1], demo.poses[1:-1], strict=True):
            p = fresh.step(action).agent
            assert abs(p.x - pose.x) < 1e-3 and abs(p.z - pose.z) < 1e-3
    finally:
        fresh.close()


def test_pick_drop_demonstration_records_changed_object_states(make_episode):
    episode = make_episode("pick_drop", 0)
    states = episode.demonstration.object_states
    target = str(episode.subgoals[0].target)
    assert states and any(target in s and s[target]["held"] for s in states), "holding the object must be recorded"


@pytest.mark.parametrize("category", CATEGORIES)
def test_oracle_recovers_after_random_actions(house_sim, make_episode, category):
    episode = make_episode(category, 1)
    rng = random.Random(category)
    house_sim.reset(episode.scene)
    obs = house_sim.teleport(episode.start_pose)
    tracker = SubgoalTracker(list(episode.subgoals))
    tracker.update(TaskState.live(house_sim, obs), 0)
    moves = ["MoveForward", "MoveForward", "TurnLeft", "TurnRight", "LookDown", "PickObject", "OpenDoor", "DropObject", "MoveBackward"]
    step = 0
    for _ in range(12):
        step += 1
        obs = house_sim.step(rng.choice(moves))
        tracker.update(TaskState.live(house_sim, obs), step)
    success = False
    for _ in range(300):
        action, rationale = next_action(house_sim, episode, tracker)
        assert rationale
        step += 1
        obs = house_sim.step(action)
        state = TaskState.live(house_sim, obs)
        tracker.update(state, step)
        if action == "Finish":
            success = tracker.success_on_finish(state)
            break
    assert success, f"{episode.id}: the oracle did not recover"


def test_oracle_drops_a_wrongly_picked_object_then_succeeds(house_sim, make_episode):
    episode = make_episode("pick_drop", 2)
    target = episode.subgoals[0].target
    house_sim.reset(episode.scene)
    wrong = next(i for i, o in sorted(house_sim.objects().items()) if o.pickable and i != target)
    house_sim.teleport(episode.start_pose)
    house_sim.set_object_state(wrong, held=True)
    tracker = SubgoalTracker(list(episode.subgoals))
    action, why = next_action(house_sim, episode, tracker)
    assert action == "DropObject" and "does not need" in why
    for step in range(1, 300):
        obs = house_sim.step(action)
        state = TaskState.live(house_sim, obs)
        tracker.update(state, step)
        if action == "Finish":
            break
        action, _ = next_action(house_sim, episode, tracker)
    assert action == "Finish" and tracker.success_on_finish(state)


def test_rationales_are_first_person_and_grounded_in_the_frame(house_sim, make_episode):
    episode = make_episode("basic", 0)
    demo = episode.demonstration
    assert demo.rationales[0].startswith(("My task", "My instruction"))
    assert all(" I " in f" {r} " for r in demo.rationales)
    house_sim.reset(episode.scene)
    obs = house_sim.teleport(episode.start_pose)
    target = obs.objects[episode.subgoals[0].target]
    assert target.visible, "basic targets are visible at the start"
    where = {"left": "on my left", "centre": "in the centre of my view", "right": "on my right"}[side_of(target, house_sim.width)]
    assert where in demo.rationales[0], demo.rationales[0]
    assert demo.rationales[-1].endswith("so I will finish.")


def test_demonstrate_is_deterministic(house_sim, make_episode):
    episode = make_episode("multi_stage", 0)
    again = demonstrate(house_sim, episode)
    assert again.to_dict() == episode.demonstration.to_dict()
