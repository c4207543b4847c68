"""Live replay of a recorded demonstration: frames are rendered from poses and object states.

An :class:`~embodied_gym.episodes.spec.Episode` holds poses and object states, never pixels.
:class:`Replay` puts a simulator into the state of demonstration step ``t`` -- every object the
demonstration ever changes is set to its state recorded at ``t`` (or back to its initial state),
then the agent is teleported to ``poses[t]`` -- and renders. Any backend that has the episode's
scene replays it the same way.
"""

from __future__ import annotations

from typing import Any

from ...sims.base import Observation, Simulator
from ..spec import Episode


class ReplayError(ValueError):
    """The episode cannot be replayed (no demonstration, or a recorded pose is not navigable)."""


class Replay:
    """Renders the states of one episode's demonstration in ``sim``.

    ``observe(t)`` returns the observation at step ``t`` (``0 <= t <= len(actions)``); results
    are cached per step (``cache=True``), so building several questions over one history renders
    each frame once."""

    def __init__(self, sim: Simulator, episode: Episode, *, cache: bool = True) -> None:
        if episode.demonstration is None:
            raise ReplayError(f"episode {episode.id!r}: field 'demonstration': missing; BEAR replays need one")
        self.sim = sim
        self.episode = episode
        self.demo = episode.demonstration
        self.cache_enabled = cache
        self._cache: dict[int, Observation] = {}
        sim.reset(episode.scene)
        self.initial: dict[int, dict[str, Any]] = {}
        for oid, info in sim.objects().items():
            self.initial[oid] = {"position": list(info.position), "is_open": info.is_open, "held": bool(info.held)}
        changed: set[int] = set()
        for states in self.demo.object_states:
            changed.update(int(k) for k in states)
        self.changed = sorted(changed)
        self._applied: int | None = None

    @property
    def n_steps(self) -> int:
        """Number of observable steps: one per action plus the final state."""
        return len(self.demo.poses)

    def states_at(self, t: int) -> dict[str, dict[str, Any]]:
        """Recorded object states before action ``t`` (the last record for the final step)."""
        states = self.demo.object_states
        if not states:
            return {}
        return states[min(t, len(states) - 1)]

    def apply(self, t: int) -> Observation:
        """Put the simulator into the state of step ``t`` and return the observation there."""
        if not 0 <= t < self.n_steps:
            raise ReplayError(f"episode {self.episode.id!r}: step {t} outside 0..{self.n_steps - 1}")
        states = self.states_at(t)
        # release what is held first, then place, then take hold: no two objects held at once
        plan = []
        for oid in self.changed:
            rec = states.get(str(oid))
            init = self.initial.get(oid, {})
            if rec is None:
                plan.append((oid, init.get("position"), init.get("is_open"), False))
            else:
                plan.append((oid, rec.get("position", init.get("position")), rec.get("is_open", init.get("is_open")), bool(rec.get("held", False))))
        for oid, pos, is_open, held in sorted(plan, key=lambda p: p[3]):
            if self.initial.get(oid, {}).get("is_open") is not None:  # a door: only its openness
                self.sim.set_object_state(oid, is_open=bool(is_open))
            else:
                self.sim.set_object_state(oid, position=None if held else pos, held=held)
        obs = self.sim.teleport(self.demo.poses[t])
        if not obs.last_action_success:
            raise ReplayError(f"episode {self.episode.id!r}: demonstration.poses[{t}] is not navigable: {obs.error}")
        self._applied = t
        return obs

    def observe(self, t: int) -> Observation:
        """The observation at step ``t`` (rendered once per step when caching)."""
        if self.cache_enabled and t in self._cache:
            return self._cache[t]
        obs = self.apply(t)
        if self.cache_enabled:
            self._cache[t] = obs
        return obs

    def clear(self) -> None:
        self._cache.clear()
