"""Training rows from recorded real episodes (``egym import embrace3k``): the episode source that
serves their recorded frames through ``EmbraceReplay-v0``, the environment that evaluates them.

:func:`replay_env_source` steps :class:`~embodied_gym.envs.replay.ReplayEnv` with the
demonstrated actions, so every row's observation (recorded frame, recorded history frames, the
demonstrator's earlier actions, EmbRACE-3K's vocabulary) is exactly what an agent sees when
``egym eval --env EmbraceReplay-v0`` asks it for that step; the dataset builder prompts it with
the ``replay`` family's builder. Rows get the same columns as simulator rows
(:mod:`embodied_gym.training.dataset`), so real and simulated traces mix in one training set.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..envs.replay import ReplayEnv
from ..episodes.spec import Episode
from .dataset import DemoStep, EpisodeSource, demonstration_steps


def replay_env_source(width: int = 512, height: int = 512, history: int = 2) -> EpisodeSource:
    """An episode source for recorded episodes (``episode.recorded``): frames resized to
    ``width x height`` (``EmbraceReplay-v0``'s defaults), ``history`` earlier recorded frames per
    observation. Raises ``ValueError`` naming the episode when it has no recorded frames."""

    def steps(episode: Episode) -> Iterator[DemoStep]:
        actions, rationales = demonstration_steps(episode)
        env = ReplayEnv([episode], width=width, height=height, history=history)
        obs, _ = env.reset(options={"episode_id": episode.id})
        for action, why in zip(actions, rationales, strict=True):
            nxt, _, terminated, _, info = env.step(action)
            assert info["correct"], (episode.id, action)  # the demonstration replays itself
            yield DemoStep(obs, action, why, "")
            obs = nxt

    return steps
