"""A small deterministic closed-loop environment for testing the evaluation harness.

It follows the environment contract of docs (notes/INTERFACES.md) that the runner relies on:
``metadata["family"] == "closed_loop"``, ``env.unwrapped.episodes``, ``reset(options={"episode_id"})``,
``env.unwrapped.oracle_action()`` and ``info["episode_result"]`` at the end, with a ``Text`` action
space (like the real envs wrapped in ``TextAction``). The agent walks on a line of cells 0..9 and
must ``Finish`` on the goal cell; the image's colour encodes the cell, so each observation differs.
Importing this module registers ``EgymToy-v0``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from embodied_gym.sims.base import ACTIONS


@dataclass
class ToyEpisode:
    id: str
    category: str
    split: str
    start: int
    goal: int
    max_steps: int = 8


def toy_episodes(n: int = 6, max_steps: int = 8) -> list[ToyEpisode]:
    cats = ("basic", "exploration", "multi_stage")
    return [ToyEpisode(f"toy-{i:03d}", cats[i % 3], "test" if i % 2 == 0 else "ood", start=i % 4,
                       goal=(i % 4) + 1 + i % 3, max_steps=max_steps) for i in range(n)]


def parse_action(text: str) -> str | None:
    m = re.search(r"<answer>\s*(\w+)\s*</answer>", text or "")
    candidate = m.group(1) if m else (text or "")
    for name in ACTIONS:
        if name.lower() in candidate.lower():
            return name
    return None


class ToyEnv(gym.Env):
    metadata = {"family": "closed_loop", "render_modes": []}

    def __init__(self, episodes: int | str | list[ToyEpisode] = 6, max_steps: int = 8, fail_on: tuple[str, ...] = (),
                 width: int = 32, height: int = 24) -> None:
        if isinstance(episodes, str):  # "toy:N" from the command line
            episodes = int(episodes.partition(":")[2])
        self.episodes = toy_episodes(episodes, max_steps) if isinstance(episodes, int) else list(episodes)
        self.fail_on = set(fail_on)
        self.h, self.w = height, width
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (height, width, 3), np.uint8),
            "instruction": spaces.Text(200, charset=string.printable),
            "step": spaces.Discrete(1000),
            "feedback": spaces.Text(200, min_length=0, charset=string.printable),
        })
        self.action_space = spaces.Text(max_length=100_000)
        self.ep: ToyEpisode | None = None
        self._cursor = 0

    def _obs(self, feedback: str) -> dict:
        img = np.zeros((self.h, self.w, 3), np.uint8)
        img[..., 0] = 20 * self.pos + 10
        img[..., 1] = 7 * self.t
        img[: self.h // 2, :, 2] = 40 * self.goal_hint
        return {"image": img, "instruction": f"Walk to cell {self.ep.goal} and Finish.", "step": np.int64(self.t),
                "feedback": feedback}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options and "episode_id" in options:
            matches = [e for e in self.episodes if e.id == options["episode_id"]]
            if not matches:
                raise ValueError(f"unknown episode_id {options['episode_id']!r}")
            self.ep = matches[0]
        else:
            self.ep = self.episodes[self._cursor % len(self.episodes)]
            self._cursor += 1
        self.pos, self.t, self.invalid, self.goal_hint = self.ep.start, 0, 0, self.ep.goal % 3
        return self._obs(""), {}

    def oracle_action(self) -> str:
        if self.pos < self.ep.goal:
            return "MoveForward"
        if self.pos > self.ep.goal:
            return "MoveBackward"
        return "Finish"

    def step(self, action: str):
        if self.ep.id in self.fail_on and self.t == 2:
            raise RuntimeError(f"injected environment failure in {self.ep.id}")
        name = parse_action(action)
        self.t += 1
        terminated = False
        if name is None:
            self.invalid += 1
            feedback = "invalid action"
        elif name == "MoveForward":
            self.pos = min(9, self.pos + 1)
            feedback = "moved"
        elif name == "MoveBackward":
            self.pos = max(0, self.pos - 1)
            feedback = "moved"
        elif name == "Finish":
            terminated = True
            feedback = "finished"
        else:
            feedback = "nothing happened"
        truncated = not terminated and self.t >= self.ep.max_steps
        success = terminated and self.pos == self.ep.goal
        info = {"action": name, "invalid_action": name is None, "feedback": feedback}
        if terminated or truncated:
            dist = abs(self.pos - self.ep.goal)
            shortest = abs(self.ep.goal - self.ep.start)
            info["episode_result"] = {
                "episode_id": self.ep.id, "category": self.ep.category, "split": self.ep.split,
                "success": bool(success), "spl": float(success) * shortest / max(shortest, self.t - 1, 1),
                "gde": float(dist), "gde_euclidean": float(dist), "subgoal_completion": float(success),
                "coverage": 0.0, "invalid_actions": self.invalid, "steps": self.t,
            }
        return self._obs(feedback), float(success), terminated, truncated, info


if "EgymToy-v0" not in gym.registry:
    gym.register(id="EgymToy-v0", entry_point=ToyEnv)
