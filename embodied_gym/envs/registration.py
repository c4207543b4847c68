"""Registration of embodied-gym's Gymnasium ids (called on ``import embodied_gym``)."""

from __future__ import annotations

import gymnasium as gym

#: id -> (entry point, default kwargs). Each environment module adds its ids here.
ENV_SPECS: dict[str, tuple[str, dict]] = {}


def register_all() -> None:
    for env_id, (entry_point, kwargs) in ENV_SPECS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, kwargs=dict(kwargs))
