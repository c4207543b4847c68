"""embodied-gym: Gymnasium environments, zero-shot rollouts and trainers for vision-language
models acting in 3D worlds.

Importing the package registers its Gymnasium ids (gymnasium 1.x has no plugin auto-loading), so
``import embodied_gym; gym.make("BearLongHorizon-v0")`` works. Registration is lazy: entry points
are strings (:mod:`embodied_gym.registration`), so importing a lower floor such as
``embodied_gym.sims`` loads no environment, episode or agent module.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .registration import register_envs  # noqa: E402

register_envs()
