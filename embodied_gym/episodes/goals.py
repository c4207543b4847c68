"""Where the oracle can act from: geometric tests shared by its goal predicates.

Everything reads the simulator interface: the backend's own free-space test
(:meth:`~embodied_gym.sims.base.Simulator.navigable` when ``exact_navigable``), its drop rule
(:meth:`~embodied_gym.sims.base.Simulator.drop_target`) and its rooms.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..sims.base import Observation, Pose, RoomInfo, Simulator
from ..sims.geometry import rooms_at


def pitch_toward(sim: Simulator, pose: Pose, target) -> float:
    """The multiple of ``sim.look_step`` nearest the elevation of ``target``'s centre as seen
    from the camera (level when the target is near the horizon)."""
    cam = sim.camera_height
    horiz = max(0.05, math.hypot(target.position[0] - pose.x, target.position[2] - pose.z))
    elev = math.degrees(math.atan2(target.position[1] + 0.5 * target.size[1] - cam, horiz))
    if abs(elev) < 20.0:
        return 0.0
    limit = sim.max_pitch
    return max(-limit, min(limit, round(elev / sim.look_step) * sim.look_step))


def free_predicate(sim: Simulator) -> Callable[[np.ndarray], np.ndarray] | None:
    """The backend's exact "can the agent stand here" test (``sim.navigable``) when it has one
    (``sim.exact_navigable``); ``None`` -> planners read the reachable grid."""
    return sim.navigable if sim.exact_navigable else None


def room_of_point(sim: Simulator, obs: Observation, focus: int | None, point) -> RoomInfo | None:
    """The room the agent must stand in to act on ``focus`` at ``point`` (walls are room
    boundaries): the focus object's own room when it contains the point, else the only room
    containing it; ``None`` when the point lies on a boundary (doors) or in no room."""
    rooms = sim.rooms()
    obj = obs.objects.get(focus) if focus is not None else None
    if obj is not None and obj.room is not None and obj.kind != "door":
        for r in rooms:
            if r.id == obj.room and r.contains(point[0], point[2]):
                return r
    inside = rooms_at(rooms, point[0], point[2])
    return inside[0] if len(inside) == 1 else None
