"""The package's Gymnasium ids, registered on ``import embodied_gym``.

Entry points are strings: registering imports no environment module (``gym.make`` imports the
one it needs), so importing a lower floor (``import embodied_gym.sims.base``) loads nothing of
``envs``, ``episodes`` or ``agents``. A new environment adds its id here (not in its own module,
which registration must not import).
"""

from __future__ import annotations

from typing import Any

_CLOSED_LOOP = "embodied_gym.envs.closed_loop:ClosedLoopEnv"
_HOUSE_TEST = "house-v2:test"

#: id -> (entry point, default keyword arguments)
ENV_IDS: dict[str, tuple[str, dict[str, Any]]] = {
    "EmbodiedTask-v0": (_CLOSED_LOOP, {"episodes": _HOUSE_TEST}),
    "EmbraceExploration-v0": (_CLOSED_LOOP, {"episodes": _HOUSE_TEST, "categories": ["exploration"]}),
    "EmbraceSpatial-v0": (_CLOSED_LOOP, {"episodes": _HOUSE_TEST, "categories": ["spatial_semantic"]}),
    "EmbraceMultiStage-v0": (_CLOSED_LOOP, {"episodes": _HOUSE_TEST, "categories": ["multi_stage"]}),
    "EmbraceInteraction-v0": (_CLOSED_LOOP, {"episodes": _HOUSE_TEST, "categories": ["open_door", "pick_drop"]}),
    "BearLongHorizon-v0": ("embodied_gym.envs.bear:BearLongHorizonEnv", {"episodes": "bear-lh-v2:test"}),
    "EmbraceReplay-v0": ("embodied_gym.envs.replay:ReplayEnv", {}),
    "BearSkill-v0": ("embodied_gym.envs.bear_skill:BearSkillEnv", {}),
}


def register_envs() -> None:
    """Register every id of :data:`ENV_IDS` with Gymnasium (ids already registered are kept)."""
    import gymnasium as gym

    for env_id, (entry_point, kwargs) in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, kwargs=dict(kwargs))
