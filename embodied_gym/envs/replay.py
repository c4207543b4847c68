"""Offline step-wise next-action prediction on recorded episodes (:class:`ReplayEnv`).

Registered id ``EmbraceReplay-v0`` (``family="replay"``): the episodes of ``egym import
embrace3k`` (or any episode whose demonstration has recorded ``frames``). One Gymnasium episode
is one recorded episode; step ``t`` shows the frame the demonstrator saw before its ``t``-th
action and asks for that action (teacher forcing: whatever the agent answers, the next step
shows the next recorded frame). Nothing is rendered: the frames are the recorded ones.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..episodes.spec import Episode, load_episodes
from ..rewards.replay import replay_result
from ..sims.base import EMBRACE_ACTIONS
from .common import TEXT_CHARSET, EpisodeCycle, clean_text, load_frame
from .text_actions import parse_action

TEXT_MAX = 8192


class ReplayEnv(gym.Env[dict[str, Any], Any]):
    """Predict the demonstrated next action of a recorded episode, one step at a time.

    Constructor: ``ReplayEnv(episodes, width=512, height=512, history=2, categories=None,
    render_mode=None)``. ``episodes``: a path or ``"SUITE:SPLIT"`` ref, or a list of
    :class:`~embodied_gym.episodes.spec.Episode`; every episode must carry recorded frames
    (``demonstration.frames``), else ``ValueError`` names the episode. ``categories`` keeps only
    those categories. Frames are resized to ``width x height``.

    Observation (``Dict``): ``image`` (the recorded frame of this step), ``instruction``,
    ``step`` (steps taken), ``history`` (``history x H x W x 3``: the frames of the ``history``
    previous steps, oldest first, black before the start; only with ``history > 0``),
    ``previous_actions`` (the demonstrated actions so far, comma-separated), ``feedback``
    (always empty: nothing is executed), ``actions`` (the vocabulary, comma-separated).

    Action: ``Text``, read by :func:`~embodied_gym.envs.text_actions.parse_action` over
    EmbRACE-3K's whole vocabulary (:data:`~embodied_gym.sims.base.EMBRACE_ACTIONS`), the parser
    of the closed-loop tasks. Reward: ``1`` when it names the demonstrated action, else ``0``.
    The episode terminates after its last recorded step.

    ``info`` each step: ``action`` (parsed, ``None`` when unparsable), ``expected``,
    ``correct``, ``invalid_action``, ``step``, ``episode_id``, ``category``; after the last step
    also ``episode_result`` (:func:`~embodied_gym.rewards.replay.replay_result`).
    ``oracle_action()`` is the demonstrated action of the current step.
    Episode choice on ``reset``: ``options={"episode_id": ID}``; else ``seed % len(episodes)``;
    else the next one (cyclic).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2, "family": "replay"}

    def __init__(
        self,
        episodes: str | os.PathLike[str] | Sequence[Episode] | None = None,
        width: int = 512,
        height: int = 512,
        history: int = 2,
        categories: Sequence[str] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if episodes is None:
            raise ValueError("EmbraceReplay-v0: pass episodes= (e.g. the episodes.jsonl written by `egym import embrace3k`)")
        loaded = load_episodes(episodes)
        if categories is not None:
            loaded = [ep for ep in loaded if ep.category in set(categories)]
        if not loaded:
            raise ValueError(f"EmbraceReplay-v0: no episodes in {episodes!r} (categories={categories!r})")
        for ep in loaded:
            if not ep.recorded:
                raise ValueError(f"EmbraceReplay-v0: episode {ep.id!r}: field 'demonstration.frames': missing; "
                                 "only recorded episodes (egym import embrace3k) can be replayed")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if int(history) < 0 or int(width) < 1 or int(height) < 1:
            raise ValueError(f"EmbraceReplay-v0: history must be >= 0 and width/height >= 1, got {history}, {width}, {height}")
        self.episodes = loaded
        self.width, self.height, self.history = int(width), int(height), int(history)
        self.render_mode = render_mode
        longest = max(len(ep.demonstration.actions) for ep in loaded)  # type: ignore[union-attr]
        text = spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET)
        obs_spaces: dict[str, spaces.Space] = {
            "image": spaces.Box(0, 255, (self.height, self.width, 3), np.uint8),
            "instruction": text,
            "step": spaces.Discrete(longest + 1),
            "previous_actions": text,
            "feedback": text,
            "actions": text,
        }
        if self.history:
            obs_spaces["history"] = spaces.Box(0, 255, (self.history, self.height, self.width, 3), np.uint8)
        self.observation_space = spaces.Dict(obs_spaces)
        self.action_space = spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET)
        self._cycle = EpisodeCycle(loaded, "EmbraceReplay-v0")
        self._episode: Episode | None = None
        self._t = 0
        self._pairs: list[tuple[str, str | None]] = []
        self._frames: dict[int, np.ndarray] = {}
        self._done = True

    @property
    def _actions(self) -> list[str]:
        assert self._episode is not None and self._episode.demonstration is not None
        return self._episode.demonstration.actions

    def _frame(self, t: int) -> np.ndarray:
        assert self._episode is not None
        if t not in self._frames:
            path = self._episode.frame_path(t)
            try:
                self._frames[t] = load_frame(path, self.width, self.height)
            except (OSError, ValueError) as exc:
                raise ValueError(f"EmbraceReplay-v0: episode {self._episode.id!r}: field 'demonstration.frames[{t}]': "
                                 f"cannot read {path}: {exc}") from None
        return self._frames[t]

    def _observation(self) -> dict[str, Any]:
        assert self._episode is not None
        t = min(self._t, len(self._actions) - 1)
        obs: dict[str, Any] = {
            "image": self._frame(t),
            "instruction": clean_text(self._episode.instruction, TEXT_MAX),
            "step": self._t,
            "previous_actions": clean_text(", ".join(self._actions[: self._t]), TEXT_MAX),
            "feedback": "",
            "actions": ", ".join(EMBRACE_ACTIONS),
        }
        if self.history:
            hist = np.zeros((self.history, self.height, self.width, 3), np.uint8)
            for k in range(self.history):
                i = t - self.history + k
                if i >= 0:
                    hist[k] = self._frame(i)
            obs["history"] = hist
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        self._episode = self._cycle.select(seed, options)
        self._t, self._pairs, self._frames, self._done = 0, [], {}, False
        info = {"episode_id": self._episode.id, "category": self._episode.category, "split": self._episode.split,
                "steps_total": len(self._actions)}
        return self._observation(), info

    def oracle_action(self) -> str:
        """The demonstrated action of the current step (``""`` once the episode has ended)."""
        if self._done or self._episode is None:
            return ""
        return self._actions[self._t]

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._done or self._episode is None:
            raise RuntimeError("EmbraceReplay-v0: call reset() before step() (the episode has ended)")
        expected = self._actions[self._t]
        predicted = parse_action(action, EMBRACE_ACTIONS)
        self._pairs.append((expected, predicted))
        correct = predicted == expected
        info: dict[str, Any] = {
            "action": predicted, "expected": expected, "correct": correct, "invalid_action": predicted is None,
            "step": self._t, "episode_id": self._episode.id, "category": self._episode.category,
        }
        self._t += 1
        terminated = self._t >= len(self._actions)
        if terminated:
            self._done = True
            info["episode_result"] = replay_result(self._episode.id, self._episode.category, self._episode.split, self._pairs)
        self._frames = {i: f for i, f in self._frames.items() if i >= self._t - self.history}  # keep memory flat
        return self._observation(), 1.0 if correct else 0.0, terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._episode is not None:
            return self._frame(min(self._t, len(self._actions) - 1)).copy()
        return None
