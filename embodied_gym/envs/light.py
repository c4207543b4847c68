"""A light stand-in closed-loop environment (``EgymLightClosedLoop-v0``) for the harness
benchmark and harness tests: the evaluation contract of :mod:`embodied_gym.envs.contract` with
frames drawn by numpy instead of a 3D simulator, so timings measure the harness, not rendering.

Importing this module registers ``EgymLightClosedLoop-v0``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..sims.base import ACTIONS, resolve_action

LIGHT_ID = "EgymLightClosedLoop-v0"


class LightClosedLoopEnv(gym.Env[dict[str, Any], Any]):
    """A lightweight closed-loop environment for the harness benchmark (and harness tests).

    Same contract as the real closed-loop envs (``metadata["family"] == "closed_loop"``,
    ``episodes``, ``reset(options={"episode_id"})``, ``oracle_action()``, ``Discrete`` actions over
    :data:`ACTIONS`, observation ``image``/``instruction``/``step``/``feedback``,
    ``info["episode_result"]`` at the end) but the world is a 2D grid and each ``width x height``
    frame is drawn with numpy (a floor/wall gradient that shifts with the agent's pose and a
    coloured target square), costing well under a millisecond. Episodes never end before
    ``max_steps`` unless the agent calls ``Finish``."""

    metadata = {"family": "closed_loop", "render_modes": []}

    def __init__(self, episodes: int | str = 64, max_steps: int = 8, width: int = 320, height: int = 240) -> None:
        n = int(str(episodes).rpartition(":")[2]) if isinstance(episodes, str) else int(episodes)
        self.episodes = [{"id": f"light-{i:04d}", "category": ("basic", "exploration", "multi_stage")[i % 3],
                          "split": "test", "goal": (i % 7 - 3, i % 5 - 2)} for i in range(n)]
        self.max_steps, self.w, self.h = int(max_steps), int(width), int(height)
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (self.h, self.w, 3), np.uint8),
            "instruction": spaces.Text(200, min_length=0, charset="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,()-"),
            "step": spaces.Discrete(self.max_steps + 1),
            "feedback": spaces.Text(200, min_length=0, charset="abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:"),
        })
        self.action_space = spaces.Discrete(len(ACTIONS))
        yy, xx = np.mgrid[0: self.h, 0: self.w]
        self._base = np.stack([xx % 256, (2 * yy) % 256, np.full_like(xx, 90)], axis=-1).astype(np.uint8)

    def _frame(self) -> np.ndarray:
        shift = np.uint8((self.heading * 37 + self.pos[0] * 11 + self.pos[1] * 5) % 256)
        img = self._base + shift  # uint8 arithmetic wraps: a gradient that moves with the pose
        gx, _ = self.ep["goal"]
        x0 = int((gx - self.pos[0] + 5) * self.w / 10) % self.w
        img[self.h // 3: self.h // 3 + 20, x0: x0 + 20] = (220, 30, 30)
        return img

    def _obs(self, feedback: str) -> dict[str, Any]:
        return {"image": self._frame(), "instruction": f"Walk to the red square at {self.ep['goal']} ({self.ep['id']}).",
                "step": self.t, "feedback": feedback}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        wanted = (options or {}).get("episode_id")
        self.ep = next((e for e in self.episodes if e["id"] == wanted), None) if wanted else self.episodes[(seed or 0) % len(self.episodes)]
        if self.ep is None:
            raise ValueError(f"unknown episode_id {wanted!r}")
        self.pos, self.heading, self.t, self.invalid = [0, 0], 0, 0, 0
        return self._obs(""), {"episode_id": self.ep["id"]}

    def oracle_action(self) -> str:
        gx, gz = self.ep["goal"]
        if (gx, gz) == tuple(self.pos):
            return "Finish"
        want = 0 if gx != self.pos[0] else 1
        if self.heading != want:
            return "TurnLeft"
        step = (1 if gx > self.pos[0] else -1) if want == 0 else (1 if gz > self.pos[1] else -1)
        return "MoveForward" if step > 0 else "MoveBackward"

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        name, _ = resolve_action(action)
        self.t += 1
        if name is None:
            self.invalid += 1
        elif name in ("MoveForward", "MoveBackward"):
            self.pos[self.heading] += 1 if name == "MoveForward" else -1
        elif name in ("TurnLeft", "TurnRight"):
            self.heading = 1 - self.heading
        terminated = name == "Finish"
        truncated = not terminated and self.t >= self.max_steps
        success = bool(terminated and tuple(self.pos) == tuple(self.ep["goal"]))
        info: dict[str, Any] = {"action": name, "invalid_action": name is None,
                                "feedback": f"{name} succeeded" if name else "invalid action"}
        if terminated or truncated:
            dist = float(np.hypot(self.pos[0] - self.ep["goal"][0], self.pos[1] - self.ep["goal"][1]))
            info["episode_result"] = {
                "episode_id": self.ep["id"], "category": self.ep["category"], "split": self.ep["split"],
                "success": success, "spl": float(success), "gde": dist, "gde_euclidean": dist,
                "subgoal_completion": float(success), "coverage": 0.0, "invalid_actions": self.invalid, "steps": self.t}
        return self._obs(info["feedback"]), float(success), terminated, truncated, info


if LIGHT_ID not in gym.registry:
    gym.register(id=LIGHT_ID, entry_point=LightClosedLoopEnv)
