"""``EgymCrash-v0``: the toy env of toy_env.py that kills its own process (``os._exit``) in
``step`` of one episode, as a segfaulting driver or the OOM killer would, and records the pid of
the process it ran in. ``crash_marker``: a file path; the env crashes only while the file does
not exist and creates it first, holding the pid of the process it crashes (or hangs) in, so it
crashes once per marker, unless ``always`` is set.
``hang``: seconds the process first stays alive without answering (it sleeps in ``step``, as a
deadlocked driver would) before it exits; 0: it exits at once.
Importing this module registers the id (``gym.make("crash_env:EgymCrash-v0")``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import gymnasium as gym
import toy_env


class CrashEnv(toy_env.ToyEnv):
    def __init__(self, episodes=6, crash_episode: str = "", crash_step: int = 2, crash_marker: str = "",
                 always: bool = False, hang: float = 0.0, **kwargs):
        super().__init__(episodes, **kwargs)
        self.crash_episode, self.crash_step, self.always, self.hang = crash_episode, crash_step, always, hang
        self.crash_marker = Path(crash_marker) if crash_marker else None

    def step(self, action):
        if self.ep.id == self.crash_episode and self.t == self.crash_step:
            if self.always or (self.crash_marker is not None and not self.crash_marker.exists()):
                if self.crash_marker is not None:
                    self.crash_marker.write_text(str(os.getpid()))  # (the pid of the process it hangs or dies in)
                time.sleep(self.hang)
                os._exit(3)
        obs, reward, terminated, truncated, info = super().step(action)
        if "episode_result" in info:
            info["episode_result"]["pid"] = os.getpid()
        return obs, reward, terminated, truncated, info


if "EgymCrash-v0" not in gym.registry:
    gym.register(id="EgymCrash-v0", entry_point=CrashEnv)
