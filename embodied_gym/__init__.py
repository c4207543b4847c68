"""embodied-gym: Gymnasium environments, zero-shot rollouts and trainers for vision-language
models acting in 3D worlds.

Importing the package registers its Gymnasium environments (gymnasium 1.x has no plugin
auto-loading), so ``import embodied_gym; gym.make("BearLongHorizon-v0")`` works.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import envs as _envs  # noqa: E402,F401  (registers the environments)
