"""Both environments check their arguments when made (not at the first ``reset``), share one
episode-selection rule and one text cleaner, and refuse episodes of another backend."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import pytest

import embodied_gym  # noqa: F401  (registers the ids)
from embodied_gym.envs.common import EpisodeCycle, clean_text
from embodied_gym.episodes.spec import Episode, Subgoal, load_episodes
from embodied_gym.sims.base import Pose


@pytest.mark.parametrize("env_id", ["EmbraceExploration-v0", "EmbodiedTask-v0", "BearLongHorizon-v0"])
def test_unknown_keyword_raises_at_make_naming_it_and_the_accepted_ones(env_id):
    """``gym.make(ID, fov=90)`` fails at once (a ``TypeError`` naming ``fov``, the env's own
    arguments and the backend's), instead of at the first ``reset``."""
    with pytest.raises(TypeError, match=r"unknown argument 'fov'.*accepted: episodes, backend, width, height.*fov_y"):
        gym.make(env_id, fov=90)


def test_backend_arguments_the_backend_declares_are_accepted():
    env = gym.make("EmbraceExploration-v0", fov_y=75.0, width=64, height=48)
    assert env.unwrapped.sim_kwargs == {"fov_y": 75.0}
    env.close()


def test_bear_env_refuses_episodes_of_another_backend():
    ep = load_episodes("bear-lh-v2:test")[0]
    other = dataclasses.replace(ep, backend="thor")
    with pytest.raises(ValueError, match=r"episode .*field 'backend': 'thor' does not match the env's backend 'house'"):
        gym.make("BearLongHorizon-v0", episodes=[other])


def _ep(eid: str) -> Episode:
    return Episode(eid, "house", 1, Pose(0, 0, 0), "go", "basic", [Subgoal("reach_pose", pose=Pose(1, 0, 1))], 10)


def test_episode_cycle_rule():
    """``episode_id`` > ``seed % n`` > the episode after the previous one (whichever way that was chosen)."""
    cycle = EpisodeCycle([_ep("a"), _ep("b"), _ep("c")], "X-v0")
    assert [cycle.select(None, None).id for _ in range(4)] == ["a", "b", "c", "a"]
    assert cycle.select(5, None).id == "c" and cycle.select(None, {}).id == "a"
    assert cycle.select(0, {"episode_id": "b"}).id == "b" and cycle.select(None, None).id == "c"
    with pytest.raises(ValueError, match=r"X-v0: reset: options\['episode_id'\] 'zz'"):
        cycle.select(None, {"episode_id": "zz"})


def test_clean_text_fits_the_space():
    assert clean_text("héllo\x00 wörld", 8) == "h?llo? w"
    assert clean_text(42, 10) == "42"
    assert clean_text("é!", 5, charset=set("é")) == "é?"
