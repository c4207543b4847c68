"""The house backend's :class:`~embodied_gym.sims.base.SceneSource`: procedural houses.

Registered with the ``house`` backend (:data:`embodied_gym.sims.BACKENDS`); suites and generators
reach it through :func:`embodied_gym.sims.scene_source` ("house"), never by importing this
package. Light: it imports no OpenGL.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..base import SceneSource
from . import catalog
from .generate import generate_house_spec
from .spec import STYLES, HouseSpec


class HouseScenes(SceneSource):
    """Houses of :func:`~embodied_gym.sims.house.generate.generate_house_spec`: ``size`` is the
    number of rooms (2..8), ``style`` ``"train"`` or ``"ood"`` (held-out wall, floor and door
    textures), ``categories`` the movable-object categories."""

    backend = "house"
    styles = tuple(STYLES)

    def generate(
        self, seed: int, *, style: str = "train", categories: Sequence[str] | None = None, size: int | None = None,
        doors: float | None = None,
    ) -> HouseSpec:
        return generate_house_spec(seed, n_rooms=size, style=style, categories=None if categories is None else list(categories),
                                   door_share=doors)

    def object_categories(self, domain: str) -> tuple[str, ...]:
        if domain == "in_domain":
            return tuple(catalog.TRAIN_OBJECT_CATEGORIES)
        if domain == "ood":
            return tuple(catalog.OOD_OBJECT_CATEGORIES)
        raise ValueError(f"domain: expected 'in_domain' or 'ood' (got {domain!r})")
