"""EmbraceReplay-v0: offline next-action prediction over imported real EmbRACE-3K episodes
(tests/fixtures/embrace3k). Proves the observation is the recorded frame, the history and the
earlier actions are the demonstrator's (teacher forcing), replies go through the closed-loop
parser over the whole EmbRACE-3K vocabulary, and the metrics count what they claim."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

import embodied_gym  # noqa: F401
from embodied_gym.envs.text_actions import parse_action
from embodied_gym.episodes.importers.embrace3k import import_embrace3k
from embodied_gym.episodes.spec import load_episodes
from embodied_gym.rewards.replay import replay_result, summarize_replay
from embodied_gym.sims.base import EMBRACE_ACTIONS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "embrace3k"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("replay")
    import_embrace3k(FIXTURE, out)
    return out / "episodes.jsonl"


def _run(env, episode_id, answer):
    obs, info = env.reset(options={"episode_id": episode_id})
    observations, infos = [obs], []
    while True:
        obs, reward, terminated, truncated, info = env.step(answer(obs, env))
        infos.append((reward, info))
        if terminated or truncated:
            return observations, infos
        observations.append(obs)


def test_observations_are_the_recorded_frames_and_the_demonstrators_history(imported):
    env = gym.make("EmbraceReplay-v0", episodes=str(imported), width=32, height=32, history=2)
    ep = load_episodes(imported)[0]
    observations, infos = _run(env, ep.id, lambda obs, e: "MoveBackward")  # always wrong: teacher forcing goes on
    actions = ep.demonstration.actions
    assert len(observations) == len(actions)
    for t, obs in enumerate(observations):
        with Image.open(ep.frame_path(t)) as im:
            expected = np.asarray(im.convert("RGB").resize((32, 32), Image.BILINEAR))
        assert np.array_equal(obs["image"], expected)
        assert obs["previous_actions"] == ", ".join(actions[:t])
        if t >= 1:
            assert np.array_equal(obs["history"][-1], observations[t - 1]["image"])
        else:
            assert not obs["history"].any()
        assert env.observation_space.contains(obs)


def test_oracle_scores_one_and_a_constant_agent_scores_its_share(imported):
    env = gym.make("EmbraceReplay-v0", episodes=str(imported), width=16, height=16, history=0)
    for ep in load_episodes(imported):
        _, infos = _run(env, ep.id, lambda obs, e: f"<think>...</think><answer>{e.unwrapped.oracle_action()}</answer>")
        result = infos[-1][1]["episode_result"]
        assert result["step_accuracy"] == 1.0 and result["exact_match"] and sum(r for r, _ in infos) == len(infos)
        _, infos = _run(env, ep.id, lambda obs, e: "I will move forward.")
        share = ep.demonstration.actions.count("MoveForward") / len(ep.demonstration.actions)
        assert infos[-1][1]["episode_result"]["step_accuracy"] == pytest.approx(share)
        assert 0 < share < 1


def test_unparsable_replies_are_invalid_steps_and_never_raise(imported):
    env = gym.make("EmbraceReplay-v0", episodes=str(imported), width=16, height=16)
    _, infos = _run(env, load_episodes(imported)[0].id, lambda obs, e: "move forward, then turn left")
    assert all(info["invalid_action"] and info["action"] is None and r == 0.0 for r, info in infos)
    assert infos[-1][1]["episode_result"]["invalid"] == len(infos)


def test_the_parser_reads_the_whole_recorded_vocabulary_only_when_asked():
    for action in EMBRACE_ACTIONS:
        assert parse_action(f"<answer>{action}</answer>", EMBRACE_ACTIONS) == action
    assert parse_action("I should look at my hand now.", EMBRACE_ACTIONS) == "LookHand"
    assert parse_action("<answer>LookHand</answer>") is None  # the closed-loop default is unchanged
    assert parse_action("look back, then turn left") == "TurnLeft"


def test_non_recorded_episodes_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="demonstration.frames"):
        gym.make("EmbraceReplay-v0", episodes="house-v1:test")


def test_summary_counts_steps_categories_exact_matches_and_confusion():
    results = [
        replay_result("a", "basic", "test", [("MoveForward", "MoveForward"), ("Finish", "Finish")]),
        replay_result("b", "basic", "test", [("MoveForward", "TurnLeft"), ("Finish", None)]),
        replay_result("c", "open_door", "test", [("OpenDoor", "OpenDoor"), ("TurnLeft", "TurnLeft"), ("Finish", "Finish")]),
    ]
    s = summarize_replay(results)
    assert s["overall"] == {"n": 3, "steps": 7, "step_accuracy": 5 / 7, "episode_exact_match": 2 / 3, "invalid_rate": 1 / 7}
    assert s["by_category"]["basic"]["step_accuracy"] == 0.5 and s["by_category"]["open_door"]["n"] == 1
    assert s["confusion"]["MoveForward"] == {"MoveForward": 1, "TurnLeft": 1}
    assert s["confusion"]["Finish"] == {"Finish": 2, "invalid": 1}
    assert s["by_action"]["TurnLeft"] == {"n": 1, "accuracy": 1.0, "precision": 0.5}
