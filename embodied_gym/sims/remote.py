"""What the backends driving a simulator in another process share (``thor``, ``unrealcv``): the
step bookkeeping, choosing what an interaction acts on from the current frame, navigation
answered from the backend's own navigable points through the shared grid planner, the drop rule
and the overview map.

A subclass provides ``_require()`` (load the default scene if none), ``_records()`` (object
records without frame data), ``_navigation()`` (``(N x 2 navigable points, OccupancyGrid)`` for
the current door states), ``rooms()``, ``pose``, ``observe()`` and one ``_do_<Action>()`` per
action of :data:`~embodied_gym.sims.base.ACTIONS` returning ``(succeeded, why_not)``; it sets
:attr:`grid_size` to the spacing of its navigable points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import ObjectInfo, Observation, Pose, Simulator, check_action, pose_xz
from .geometry import path_length
from .navigation import OccupancyGrid
from .overview import draw_overview


class RemoteSimulator(Simulator):
    """Base class of :mod:`embodied_gym.sims.thor` and :mod:`embodied_gym.sims.unrealcv`."""

    _steps: int = 0
    _last: tuple[str | None, bool, str | None] = (None, True, None)

    def _require(self) -> Any:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _records(self) -> dict[int, ObjectInfo]:  # pragma: no cover
        raise NotImplementedError

    def _navigation(self) -> tuple[np.ndarray, OccupancyGrid]:  # pragma: no cover
        raise NotImplementedError

    # -- actions ---------------------------------------------------------------------------------
    def step(self, action: str | int) -> Observation:
        name = check_action(action)
        self._require()
        self._steps += 1
        ok, err = getattr(self, "_do_" + name)()
        self._last = (name, ok, None if ok else f"{name} failed: {err}")
        return self.observe()

    def _do_Finish(self) -> tuple[bool, str | None]:
        return True, None

    def _in_reach(self, keep) -> list[ObjectInfo]:
        """Objects of the current frame in view and within reach satisfying ``keep``, nearest first
        (what PickObject / OpenDoor act on)."""
        obs = self.observe()
        cands = [o for o in obs.objects.values() if o.visible and o.distance <= self.interact_distance and keep(o)]
        return sorted(cands, key=lambda o: (o.distance, o.id))

    def objects(self) -> dict[int, ObjectInfo]:
        self._require()
        return self._records()

    def drop_target(self, pose: Pose | None = None) -> int | None:
        """The receptacle ``DropObject`` from ``pose`` puts the held object on: the interface's
        heading-ray rule over :meth:`surfaces` within reach, which ``DropObject`` applies as is."""
        return super().drop_target(pose)

    # -- navigation ------------------------------------------------------------------------------
    def reachable_positions(self) -> np.ndarray:
        """The backend's own navigable points (simulator frame) for the current door states."""
        self._require()
        return self._navigation()[0].copy()

    def shortest_path(self, start: Pose | Sequence[float], goal: Pose | Sequence[float]) -> list[tuple[float, float]]:
        """Path between the navigable points nearest ``start`` and ``goal`` within reach
        (``interact_distance``): objects on furniture lie off the navigable grid."""
        self._require()
        return self._navigation()[1].shortest_path(pose_xz(start), pose_xz(goal), snap=self.interact_distance)

    def geodesic_distance(self, start: Pose | Sequence[float], goal: Pose | Sequence[float]) -> float:
        """Length of :meth:`shortest_path` plus the straight remainder from its last point to
        ``goal`` (zero for a navigable goal; the last reach to an object on furniture otherwise);
        ``inf`` when no navigable point within reach of ``goal`` is connected to ``start``."""
        path = self.shortest_path(start, goal)
        if not path:
            return math.inf
        gx, gz = pose_xz(goal)
        return path_length(path) + math.hypot(path[-1][0] - gx, path[-1][1] - gz)

    # -- maps ------------------------------------------------------------------------------------
    def top_down_map(self, path: Sequence[Sequence[float]] | None = None, *, size: int = 512) -> np.ndarray:
        self._require()
        return draw_overview(self.reachable_positions(), self.grid_size, list(self._records().values()),
                             self.rooms(), self.pose, path, size=size)
