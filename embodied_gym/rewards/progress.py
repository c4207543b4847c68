"""Subgoal progress: when is a subgoal met, and which one is next.

This is the one definition of task success shared by the environments, the oracle and the
metrics. It reads a :class:`TaskState` (a plain record of the simulator's state) and never talks
to a simulator itself, so it can score recorded trajectories as well as live ones.

Semantics (documented in docs/TASKS.md):

* ``reach_object``: the agent's distance to the object ``target`` is at most ``radius``.
  The distance is the *geodesic* distance over navigable space when the state carries a
  ``distance_to`` function (live simulation), else the Euclidean ground-plane distance.
* ``reach_pose``: the same, to ``pose``.
* ``pick``: the agent holds ``target``.
* ``place``: ``target`` is not held and rests on ``receptacle`` (or lies within ``radius`` of
  ``pose`` on the ground plane when no receptacle is given).
* ``open``: door ``target`` is open.
* any subgoal with ``keep_closed`` door ids holds only while each of those doors is closed
  (``open_door`` episodes list every other door that was closed at the start, so a blind agent
  that opens whatever door it meets fails).

Subgoals are met strictly in order: :meth:`SubgoalTracker.update` advances past every subgoal
that holds in the current state, starting at the first unmet one. An episode *succeeds* when
the agent calls ``Finish`` and, at that moment, every earlier subgoal has been met in order and
the last subgoal holds (for reach goals: the agent stands within the radius when finishing).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..episodes.spec import Subgoal
from ..sims.base import ObjectInfo, Observation, Pose, Simulator


@dataclass
class TaskState:
    """What subgoal checks need to know about the world at one step.

    ``distance_to`` (optional) returns the geodesic distance from the agent to an ``(x, y, z)``
    point; without it, distances are Euclidean on the ground plane."""

    agent: Pose
    held_object: int | None
    objects: Mapping[int, ObjectInfo]
    distance_to: Callable[[Sequence[float]], float] | None = None

    @classmethod
    def live(cls, sim: Simulator, obs: Observation | None = None) -> TaskState:
        """The state of a live simulator after observation ``obs`` (default ``sim.observe()``),
        with geodesic distances from the agent's pose (``sim.geodesic_distance``): what the
        environments and the oracle both score with."""
        obs = obs if obs is not None else sim.observe()
        pose = obs.agent
        return cls(pose, obs.held_object, obs.objects, lambda p: sim.geodesic_distance(pose, p))

    def distance(self, point: Sequence[float]) -> float:
        """Distance from the agent to ``point`` (geodesic when live, else ground-plane Euclidean)."""
        if self.distance_to is not None:
            return float(self.distance_to(point))
        return math.hypot(self.agent.x - point[0], self.agent.z - point[2])


def subgoal_target_point(subgoal: Subgoal, objects: Mapping[int, ObjectInfo]) -> tuple[float, float, float] | None:
    """The world point a subgoal is about (the target object's position, or its pose), if any."""
    if subgoal.type in ("reach_pose",) and subgoal.pose is not None:
        return subgoal.pose.position
    if subgoal.type == "place":
        if subgoal.receptacle is not None and subgoal.receptacle in objects:
            return tuple(objects[subgoal.receptacle].position)  # type: ignore[return-value]
        if subgoal.pose is not None:
            return subgoal.pose.position
    if subgoal.target is not None and subgoal.target in objects:
        return tuple(objects[subgoal.target].position)  # type: ignore[return-value]
    return None


def subgoal_met(subgoal: Subgoal, state: TaskState) -> bool:
    """Whether ``subgoal`` holds in ``state`` (see the module docstring)."""
    for door in subgoal.keep_closed:
        other = state.objects.get(door)
        if other is None or other.is_open:
            return False
    kind = subgoal.type
    if kind == "pick":
        return state.held_object is not None and state.held_object == subgoal.target
    if kind == "open":
        door = state.objects.get(subgoal.target) if subgoal.target is not None else None
        return bool(door is not None and door.is_open)
    if kind == "place":
        obj = state.objects.get(subgoal.target) if subgoal.target is not None else None
        if obj is None or obj.held or state.held_object == subgoal.target:
            return False
        if subgoal.receptacle is not None:
            return obj.on == subgoal.receptacle
        assert subgoal.pose is not None
        return math.hypot(obj.position[0] - subgoal.pose.x, obj.position[2] - subgoal.pose.z) <= subgoal.radius
    point = subgoal_target_point(subgoal, state.objects)
    if point is None:
        return False
    return state.distance(point) <= subgoal.radius


@dataclass
class SubgoalTracker:
    """Tracks in-order progress through an episode's subgoals.

    ``index`` is the number of subgoals met so far (in order); ``met_at[i]`` is the step at which
    subgoal ``i`` was met."""

    subgoals: list[Subgoal]
    index: int = 0
    met_at: list[int] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Whether every subgoal has been met."""
        return self.index >= len(self.subgoals)

    @property
    def current(self) -> Subgoal | None:
        """The first unmet subgoal (``None`` when done)."""
        return None if self.done else self.subgoals[self.index]

    @property
    def completion(self) -> float:
        """Share of subgoals met in order, in ``[0, 1]``."""
        return self.index / len(self.subgoals) if self.subgoals else 1.0

    def update(self, state: TaskState, step: int) -> int:
        """Advance past every subgoal now met, in order; returns how many were newly met."""
        newly = 0
        while not self.done and subgoal_met(self.subgoals[self.index], state):
            self.index += 1
            self.met_at.append(step)
            newly += 1
        return newly

    def success_on_finish(self, state: TaskState) -> bool:
        """Success when ``Finish`` is called in ``state``: all earlier subgoals met in order and
        the last one holding now."""
        if not self.subgoals:
            return False
        if self.index < len(self.subgoals) - 1:
            return False
        return subgoal_met(self.subgoals[-1], state)

    def to_dict(self) -> dict[str, Any]:
        """``{"index", "met_at"}`` for episode records."""
        return {"index": self.index, "met_at": list(self.met_at)}
