"""Procedural scene sources: the part of the simulator contract suites and generators draw
scenes from (:class:`SceneSource`), so that nothing above ``sims/`` imports a backend."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any


class SceneSource(ABC):
    """Procedural scenes of one backend: what suites and task generators draw scenes from, so
    that nothing above ``sims/`` imports a backend. Registered per backend with
    :func:`embodied_gym.sims.register_backend` and obtained with
    :func:`embodied_gym.sims.scene_source`."""

    #: registry name of the backend whose ``reset`` accepts the generated scenes
    backend: str = "base"
    #: scene styles :meth:`generate` accepts (``"train"``: the training look; ``"ood"``: held-out
    #: appearance for out-of-domain splits)
    styles: tuple[str, ...] = ("train",)

    @abstractmethod
    def generate(
        self, seed: int, *, style: str = "train", categories: Sequence[str] | None = None, size: int | None = None,
        doors: float | None = None,
    ) -> Any:
        """A scene ``Simulator.reset`` of :attr:`backend` accepts, drawn deterministically from
        ``seed``: ``style`` one of :attr:`styles`, movable objects from ``categories`` (default:
        the style's), ``size`` the number of rooms (default: drawn from the seed), ``doors`` the
        share of passages between rooms that are closed doors (default: the backend's own mix).
        Raises ``ValueError`` naming the bad argument."""

    @abstractmethod
    def object_categories(self, domain: str) -> tuple[str, ...]:
        """Movable-object categories of ``domain``: ``"in_domain"`` (training and test scenes) or
        ``"ood"`` (held-out categories that never appear in-domain)."""
