"""GRPO reward functions (embodied_gym.rewards.grpo): the format contract, action match, and the
simulator-verified progress reward on real house-v1 episodes; property tests prove that no
completion (any text, any conversational shape) makes a reward raise."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.episodes.spec import load_episodes
from embodied_gym.rewards.grpo import (
    SimulatorProgressReward,
    action_match_reward,
    answer_action,
    completion_text,
    format_reward,
)
from embodied_gym.sims.base import ACTIONS


def test_format_reward_scores_full_contract_answer_only_and_garbage():
    good = "<think>The cup is ahead.</think><answer>MoveForward</answer>"
    assert format_reward([good, "<answer>turn left</answer>", "MoveForward", "<think></think><answer>MoveForward</answer>",
                          "<think>x</think><answer>Fly</answer>"]) == [1.0, 0.5, 0.0, 0.5, 0.0]


def test_conversational_completions_are_read_like_plain_strings():
    conv = [{"role": "assistant", "content": "<think>a</think><answer>Finish</answer>"}]
    parts = [{"role": "assistant", "content": [{"type": "text", "text": "<think>a</think><answer>Finish</answer>"}]}]
    assert completion_text(conv) == completion_text(parts) == "<think>a</think><answer>Finish</answer>"
    assert format_reward([conv, parts]) == [1.0, 1.0]


def test_action_match_uses_the_last_answer_and_the_demonstrated_action():
    comps = ["<answer>TurnLeft</answer>", "<answer>MoveForward</answer><answer>TurnLeft</answer>", "<answer>TurnRight</answer>"]
    assert action_match_reward(comps, action=["TurnLeft"] * 3) == [1.0, 1.0, 0.0]
    assert answer_action("<answer> move forward </answer>") == "MoveForward"


completion_strategy = st.one_of(
    st.text(max_size=200),
    st.builds(lambda a, b: f"<think>{a}</think><answer>{b}</answer>", st.text(max_size=40), st.text(max_size=20)),
    st.lists(st.fixed_dictionaries({"role": st.just("assistant"), "content": st.one_of(st.text(max_size=50), st.none())}), max_size=2),
    st.none(), st.integers(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(completion_strategy, min_size=1, max_size=4))
def test_no_completion_makes_format_or_match_raise(comps):
    assert all(r in (0.0, 0.5, 1.0) for r in format_reward(comps))
    assert all(r in (0.0, 1.0) for r in action_match_reward(comps, action=["MoveForward"] * len(comps)))


@pytest.fixture(scope="module")
def progress():
    reward = SimulatorProgressReward()
    yield reward
    reward.close()


@pytest.fixture(scope="module")
def episode():
    return next(e for e in load_episodes("house-v1:val") if e.category == "basic")


@settings(max_examples=25, deadline=None)
@given(st.lists(completion_strategy, min_size=1, max_size=3), st.integers(0, 5))
def test_no_completion_makes_the_simulator_reward_raise(progress, episode, comps, step):
    spec = json.dumps(episode.to_dict())
    out = progress(comps, episode=[spec] * len(comps), step=[step] * len(comps))
    assert len(out) == len(comps) and all(-1.5 <= r <= 1.5 for r in out)


def test_simulator_reward_verifies_outcomes_not_the_demonstration(progress, episode):
    """Finish scores +1 only where the task is done (the demonstration's last step) and -1 at the
    start; an unparsable reply is -1; along the demonstration the demonstrated action never scores
    below the worst alternative and most steps' demonstrated action scores > 0."""
    spec = json.dumps(episode.to_dict())
    demo = episode.demonstration.actions
    last = len(demo) - 1
    assert demo[last] == "Finish"
    assert progress.score(spec, last, "Finish") == 1.0
    assert progress.score(spec, 0, "Finish") == -1.0
    assert progress.score(spec, 0, None) == -1.0
    positive = 0
    for i, action in enumerate(demo):
        scores = {a: progress.score(spec, i, a) for a in ACTIONS}
        assert scores[action] >= min(scores.values())
        positive += scores[action] > 0
    assert positive >= len(demo) // 2
    assert progress.stats["replays"] >= 1


def test_simulator_reward_rewards_an_alternative_good_action(progress, episode):
    """At a step where the demonstration moves forward toward the target, turning away scores
    less than the demonstrated move (the reward measures progress, not agreement)."""
    spec = json.dumps(episode.to_dict())
    demo = episode.demonstration.actions
    i = demo.index("MoveForward")
    assert progress.score(spec, i, "MoveForward") > progress.score(spec, i, "MoveBackward")


def test_simulator_reward_names_a_step_outside_the_demonstration(progress, episode):
    with pytest.raises(ValueError, match="outside its demonstration"):
        progress.score(json.dumps(episode.to_dict()), 10_000, "MoveForward")


def test_simulator_reward_is_not_applicable_to_recorded_episodes(progress, episode, monkeypatch):
    """A recorded episode (imported real data) has no simulator state: the reward is None, which
    trl leaves out of that sample's total, and no simulator is touched."""
    from embodied_gym.episodes.spec import Episode

    monkeypatch.setattr(Episode, "recorded", property(lambda self: True))
    replays = progress.stats["replays"]
    assert progress.score(episode, 0, "MoveForward") is None
    assert progress.stats["replays"] == replays


def test_simulator_reward_executes_what_the_given_parser_reads(episode):
    """With the evaluation parser, a prose reply is executed as the env would execute it; with the
    default strict reader it is no valid action (-1)."""
    from embodied_gym.envs.text_actions import parse_action

    spec = json.dumps(episode.to_dict())
    last = len(episode.demonstration.actions) - 1
    lenient = SimulatorProgressReward(parse=parse_action)
    strict = SimulatorProgressReward()
    try:
        assert lenient(["I am there, so I will finish."], episode=[spec], step=[last]) == [1.0]
        assert strict(["I am there, so I will finish."], episode=[spec], step=[last]) == [-1.0]
    finally:
        lenient.close()
        strict.close()
