"""Wrappers over embodied-gym environments.

:class:`TextAction` lets a language agent act with free text in a closed-loop environment.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium import spaces

from .closed_loop import TEXT_CHARSET
from .contract import REPLY_CAP
from .text_actions import parse_action

TEXT_ACTION_MAX = REPLY_CAP


class TextAction(gym.ActionWrapper):
    """Turn a closed-loop env's ``Discrete`` action space into ``Text``: ``step(reply)`` parses
    the reply with :func:`embodied_gym.envs.text_actions.parse_action` (``<answer>TurnLeft</answer>``,
    ``"turn left"``, ``"Action: move_forward"``, ``{"action": "TurnLeft"}``, ...).

    A reply that names no single action is an *invalid action*: it is passed to the env as the
    raw text, which records it (``info["invalid_action"] = True``) and applies the env's
    ``invalid_action`` setting -- ``"noop"`` (the step counts, nothing moves) or ``"fail"`` (the
    episode ends as a failure). It never raises. ``info["raw_action"]`` is always the reply and
    ``info["action"]`` the parsed action name (``None`` when invalid).
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.action_space = spaces.Text(TEXT_ACTION_MAX, min_length=0, charset=TEXT_CHARSET)

    def action(self, action: Any) -> str:
        parsed = parse_action(action)
        if parsed is not None:
            return parsed
        # an unparsable reply goes through as text: never a valid action name, so the env records
        # it as invalid (an exact action name would have been parsed above)
        return action if isinstance(action, str) else repr(action)

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(self.action(action))
        info["raw_action"] = action if isinstance(action, str) else repr(action)
        return obs, reward, terminated, truncated, info
