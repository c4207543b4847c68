"""What a policy knows of its episode besides the current observation.

:class:`StepContext` is the per-episode memory the evaluation runner keeps for an agent and the
training dataset builder rebuilds from a demonstration, so that the prompt builder
(:mod:`embodied_gym.envs.prompts`) renders the same text for both. :func:`observation_image`
picks the current RGB frame out of an observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class StepContext:
    """Per-episode memory the runner keeps and passes to :meth:`Agent.act`.

    ``step`` is the index of the step about to be taken (0 after reset). ``frames`` holds the
    images of earlier observations (oldest first, the current one excluded), ``actions`` the reply
    texts sent so far, ``parsed_actions`` what the environment made of them (``None`` = invalid),
    ``feedback`` the environment's feedback after each. ``oracle`` is the ground-truth action /
    answer for the current step when the agent asked for it. ``perception`` is the environment's
    privileged perception report for the current step (``--perception oracle``; see
    :mod:`embodied_gym.envs.perception`), added to the prompt when set; ``scene`` its structured form
    (:func:`~embodied_gym.envs.perception.frame_state`) for agents with ``needs_scene`` (the tool
    agent's oracle detector and depth probe). ``seed`` is the run seed."""

    episode_id: str
    family: str
    step: int = 0
    seed: int = 0
    frames: list[np.ndarray] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    parsed_actions: list[Any] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    oracle: Any = None
    perception: str | None = None
    scene: dict[str, Any] | None = None
    max_frames: int = 16

    def record(self, obs_before: dict[str, Any], action: str, parsed: Any, feedback: str) -> None:
        """Append one finished step (the observation it was taken from, the action, the outcome)."""
        image = observation_image(obs_before)
        if image is not None:
            self.frames.append(image)
            del self.frames[: max(0, len(self.frames) - self.max_frames)]
        self.actions.append(action)
        self.parsed_actions.append(parsed)
        self.feedback.append(feedback)
        self.step += 1


def observation_image(obs: Any) -> np.ndarray | None:
    """The current RGB frame of an observation (``obs["image"]`` / ``obs["rgb"]`` or an array)."""
    if isinstance(obs, np.ndarray):
        return obs if obs.ndim == 3 else None
    if isinstance(obs, dict):
        for key in ("image", "rgb", "frame"):
            value = obs.get(key)
            if isinstance(value, np.ndarray) and value.ndim == 3:
                return value
    return None
