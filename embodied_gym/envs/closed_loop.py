"""EmbRACE-style closed-loop tasks as a Gymnasium environment (:class:`ClosedLoopEnv`).

Registered ids (all ``family="closed_loop"``, default episodes ``"house-v2:test"``):
``EmbodiedTask-v0`` (every category), ``EmbraceExploration-v0`` (``exploration``),
``EmbraceSpatial-v0`` (``spatial_semantic``), ``EmbraceMultiStage-v0`` (``multi_stage``),
``EmbraceInteraction-v0`` (``open_door`` and ``pick_drop``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..episodes.spec import Episode, load_episodes
from ..rewards.coverage import CoverageGrid
from ..rewards.failures import TraceRecorder, attribute
from ..rewards.metrics import make_episode_result
from ..rewards.progress import SubgoalTracker, TaskState, subgoal_target_point
from ..sims.base import ACTIONS, Observation, Simulator, pose_xz, resolve_action
from ..sims.geometry import path_length
from .common import TEXT_CHARSET, EpisodeCycle, build_simulator, check_sim_kwargs, clean_text, env_arguments
from .perception import PerceptionMemory, closed_loop_report, frame_state

FEEDBACK_MAX = 512
INVALID_MODES = ("noop", "fail")
#: metres: how far off the navigable grid a target point may lie for distances to route to it
OFF_GRID_MAX = 1.5

def public_reason(action: str, error: str | None, objects: dict, rooms: Sequence) -> str | None:
    """The backend's reason for a refused action as the agent may read it: a refused move is just
    ``"blocked"`` (what the agent bumped into -- a named door, a desk -- would let a blind agent
    find its target by touch), and any object or room name in other reasons becomes its kind
    (``"already holding an object"``), so feedback never identifies an object."""
    if error is None:
        return None
    if action in ("MoveForward", "MoveBackward"):
        return "blocked"
    kinds = {"door": "a door", "furniture": "a piece of furniture"}
    names = sorted(((o.name, kinds.get(o.kind, "an object")) for o in objects.values() if o.name), key=lambda t: -len(t[0]))
    names += sorted(((r.name, "a room") for r in rooms if r.name), key=lambda t: -len(t[0]))
    for text, kind in names:
        error = error.replace(text, kind)
    return error


def _failure(name: str, error: str | None) -> str:
    """``"<Action> failed: <why>"`` whether or not the backend's message already names the action."""
    if error and error.startswith(f"{name} failed"):
        return error
    return f"{name} failed: {error or 'no effect'}"


def check_subgoal_objects(episode: Episode, objects: Any) -> None:
    """``ValueError`` naming the episode, the field and the id when a subgoal's ``target`` or
    ``receptacle`` names no object of the scene as the backend built it (``objects``: id ->
    record); the spec alone cannot know which ids a backend's scene holds."""
    for i, sg in enumerate(episode.subgoals):
        for name in ("target", "receptacle"):
            oid = getattr(sg, name, None)
            if oid is not None and oid not in objects:
                known = ", ".join(str(k) for k in sorted(objects)[:40])
                raise ValueError(f"episode {episode.id!r}: field 'subgoals[{i}].{name}': object id {oid!r} is not in "
                                 f"the scene (object ids: {known})")


class ClosedLoopEnv(gym.Env[dict[str, Any], Any]):
    """An agent acts in a simulated house until it calls ``Finish`` or runs out of steps.

    Constructor: ``ClosedLoopEnv(episodes="house-v2:test", backend="house", width=320,
    height=240, history=0, shaped_reward=False, invalid_action="noop", categories=None,
    shaping_scale=0.1, view_distance=6.0, render_mode=None, **sim_kwargs)``.
    ``episodes`` is a ref (path or ``"SUITE:SPLIT"``) or a list of :class:`Episode`;
    ``categories`` keeps only those categories; ``sim_kwargs`` go to
    :func:`~embodied_gym.sims.make_simulator`. One simulator is built on the first ``reset``
    and reused: each episode calls ``sim.reset(episode.scene)`` and teleports to its start pose.

    Observation (``Dict``): ``image`` (``H x W x 3`` uint8, the current frame), ``instruction``
    (Text), ``step`` (Discrete: steps taken so far), ``feedback`` (Text: ``"MoveForward
    succeeded"``, ``"MoveForward failed: <simulator error>"``, ``"invalid action: ..."``; empty
    after reset), and with ``history=k > 0`` ``history`` (``k x H x W x 3``: the ``k`` frames
    before the current one, oldest first, black frames before the episode's start).

    Action: ``Discrete(len(ACTIONS))`` over :data:`~embodied_gym.sims.base.ACTIONS`. ``step``
    also accepts an action name. Anything else (an index out of range, an unknown string such as
    an unparsable reply passed on by :class:`~embodied_gym.envs.wrappers.TextAction`, ``None``,
    an action the backend does not support) is an *invalid action*: it never raises; it is
    recorded in ``info`` and, with ``invalid_action="noop"``, the step counts but the world does
    not change; with ``"fail"`` the episode ends at once as a failure (``terminated=True``).

    Reward: ``+1`` on a successful ``Finish`` (success as defined by
    :class:`~embodied_gym.rewards.progress.SubgoalTracker`), else ``0``. With
    ``shaped_reward=True`` each step also earns ``shaping_scale * (d_before - d_after)``, where
    ``d`` is the geodesic distance in metres from the agent to the target point of the subgoal
    that was current when the step began (``0`` when either distance is infinite or every
    subgoal is met): moving closer is positive, moving away negative.

    Episode choice in ``reset``: ``options={"episode_id": ID}``; else with ``seed`` the episode
    ``seed % len(episodes)``; else the one after the previously selected one (cyclic).

    Episode end: ``Finish`` -> ``terminated``; ``step == episode.max_steps`` without it ->
    ``truncated``. Stepping after the end raises ``RuntimeError`` (call ``reset``).

    ``info`` on every step: ``action`` (name or ``None``), ``invalid_action``, ``feedback``,
    ``action_success``, ``success`` (True only on a successful Finish), ``subgoals_total``,
    ``step``, ``episode_id``; ``raw_action`` when the action was invalid; at the end
    ``episode_result`` (:func:`~embodied_gym.rewards.metrics.make_episode_result`, with
    ``failure_mode``, ``failure_flags`` and ``failure_evidence`` from
    :func:`~embodied_gym.rewards.failures.attribute`; the mode is ``None`` on success); and
    ``privileged``, the evaluator's view that no agent may read (none of embodied-gym's agents or
    its runner does): ``subgoals_met`` (subgoals met so far, in order), ``finish_would_succeed``
    (whether ``Finish`` now would succeed) and ``pose`` (the agent's true pose). Nothing else in
    ``info`` or the observation changes with task progress before the episode ends. The reason in
    a failure feedback never names an object or a room (a refused move reads ``"MoveForward
    failed: blocked"``; see :func:`public_reason`).
    ``reset`` returns ``info`` with ``episode_id``, ``category``, ``split``, ``subgoals_total``
    and ``privileged``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4, "family": "closed_loop"}

    def __init__(
        self,
        episodes: str | Sequence[Episode] = "house-v2:test",
        backend: str = "house",
        width: int = 320,
        height: int = 240,
        history: int = 0,
        shaped_reward: bool = False,
        invalid_action: str = "noop",
        categories: Sequence[str] | None = None,
        shaping_scale: float = 0.1,
        view_distance: float = 6.0,
        render_mode: str | None = None,
        **sim_kwargs: Any,
    ):
        if invalid_action not in INVALID_MODES:
            raise ValueError(f"invalid_action must be one of {INVALID_MODES}, got {invalid_action!r}")
        if not isinstance(history, int) or history < 0:
            raise ValueError(f"history must be an integer >= 0, got {history!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        check_sim_kwargs(type(self).__name__, backend, sim_kwargs, env_arguments(ClosedLoopEnv.__init__))
        eps = load_episodes(episodes)
        if categories is not None:
            eps = [e for e in eps if e.category in set(categories)]
        if not eps:
            raise ValueError(f"no episodes in {episodes if isinstance(episodes, str) else 'the given list'}"
                             f" for categories {list(categories) if categories else 'any'}")
        for e in eps:
            if e.backend != backend:
                raise ValueError(f"episode {e.id!r}: field 'backend': {e.backend!r} does not match the env's backend {backend!r}")
        self.episodes: list[Episode] = eps
        self.backend, self.width, self.height, self.history = backend, int(width), int(height), history
        self.shaped_reward, self.shaping_scale = bool(shaped_reward), float(shaping_scale)
        self.invalid_action, self.view_distance, self.render_mode = invalid_action, float(view_distance), render_mode
        self.sim_kwargs = sim_kwargs
        self.sim: Simulator | None = None
        charset = TEXT_CHARSET | {c for e in eps for c in e.instruction}
        self._charset = charset
        obs_spaces: dict[str, spaces.Space] = {
            "image": spaces.Box(0, 255, (self.height, self.width, 3), np.uint8),
            "instruction": spaces.Text(max(len(e.instruction) for e in eps), min_length=0, charset=charset),
            "step": spaces.Discrete(max(e.max_steps for e in eps) + 1),
            "feedback": spaces.Text(FEEDBACK_MAX, min_length=0, charset=charset),
        }
        if history:
            obs_spaces["history"] = spaces.Box(0, 255, (history, self.height, self.width, 3), np.uint8)
        self.observation_space = spaces.Dict(obs_spaces)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.episode: Episode | None = None
        self.tracker: SubgoalTracker | None = None
        self.oracle_rationale: str | None = None
        self._cycle = EpisodeCycle(eps, type(self).__name__)
        self._done = True

    # -- gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        ep = self._cycle.select(seed, options)
        sim = self._simulator()
        sim.reset(ep.scene)
        obs = sim.teleport(ep.start_pose)
        if not obs.last_action_success:
            raise ValueError(f"episode {ep.id!r}: field 'start_pose': {ep.start_pose.to_list()} is not navigable ({obs.error})")
        check_subgoal_objects(ep, obs.objects)
        self.episode, self.tracker, self._obs = ep, SubgoalTracker(list(ep.subgoals)), obs
        self._steps, self._invalid, self._done, self.oracle_rationale = 0, 0, False, None
        self._positions = [obs.agent.xz]
        self._frames: deque[np.ndarray] = deque(maxlen=self.history or 1)
        self.tracker.update(self._state(obs), 0)
        self._trace = TraceRecorder(ep.subgoals, obs.objects)
        self._trace.record(0, None, False, True, obs.agent, obs.held_object, obs.objects, self.tracker.index)
        self._memory, self._rooms = PerceptionMemory(), sim.rooms()
        self._memory.update(0, obs.objects)
        self._coverage, self._shortest = self._measure_house(sim, ep)
        self._see(obs)
        self._goal_distance = self._distance_to_current(obs)
        info = {"episode_id": ep.id, "category": ep.category, "split": ep.split, "subgoals_total": len(ep.subgoals),
                "privileged": self._privileged(sim)}
        return self._observation(""), info

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self.episode is None or self._done:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset()")
        ep, tracker, sim = self.episode, self.tracker, self.sim
        assert tracker is not None and sim is not None
        name, reason = self._resolve(action)
        self._steps += 1
        reward, terminated, success = 0.0, False, False
        info: dict[str, Any] = {"action": name, "invalid_action": name is None}
        if name is None:
            self._invalid += 1
            info["raw_action"] = action if isinstance(action, str) else repr(action)
            feedback = f"invalid action: {reason}"
            if self.invalid_action == "fail":
                terminated = True
                feedback += "; the episode ends as a failure"
            self._frames.append(self._obs.rgb)
            info["action_success"] = False
        else:
            subgoal = tracker.current
            self._frames.append(self._obs.rgb)
            obs = sim.step(name)
            self._obs = obs
            self._positions.append(obs.agent.xz)
            state = self._state(obs)
            tracker.update(state, self._steps)
            if name == "Finish":
                terminated = True
                success = tracker.success_on_finish(state)
                reward += 1.0 if success else 0.0
            if self.shaped_reward and subgoal is not None:
                before, after = self._goal_distance, self._distance(subgoal, obs)
                if math.isfinite(before) and math.isfinite(after):
                    reward += self.shaping_scale * (before - after)
            self._goal_distance = self._distance_to_current(obs)
            if name == "OpenDoor" and obs.last_action_success:
                self._coverage.set_transparent(sim.reachable_positions())
            self._see(obs)
            info["action_success"] = bool(obs.last_action_success)
            feedback = f"{name} succeeded" if obs.last_action_success else _failure(name, public_reason(name, obs.error, obs.objects, sim.rooms()))
        truncated = not terminated and self._steps >= ep.max_steps
        self._done = terminated or truncated
        self._trace.record(self._steps, name, name is None, info["action_success"], self._obs.agent,
                           self._obs.held_object, self._obs.objects, tracker.index)
        self._memory.update(self._steps, self._obs.objects)
        info.update(feedback=feedback, success=success, subgoals_total=len(ep.subgoals), step=self._steps,
                    episode_id=ep.id, privileged=self._privileged(sim))
        if self._done:
            info["episode_result"] = self._result(success, truncated)
        return self._observation(feedback), float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode == "rgb_array" and self.episode is not None:
            return self._obs.rgb.copy()
        return None

    def close(self):
        if self.sim is not None:
            self.sim.close()
            self.sim = None
        self.episode, self._done = None, True

    def oracle_action(self) -> str:
        """The expert's action for the current step (:func:`embodied_gym.episodes.oracle.next_action`);
        its rationale is kept in ``oracle_rationale``."""
        if self.episode is None or self._done:
            raise RuntimeError("oracle_action() needs a running episode; call reset()")
        from ..episodes.oracle import next_action

        action, rationale = next_action(self.sim, self.episode, self.tracker, self._obs)
        self.oracle_rationale = rationale
        return action

    def perception_report(self) -> str:
        """Privileged ground truth of the current frame for the perception ablation
        (:func:`~embodied_gym.envs.perception.closed_loop_report`: visible objects with boxes,
        distance and direction, the rooms, where each object was last seen)."""
        if self.episode is None:
            raise RuntimeError("perception_report() needs a running episode; call reset()")
        obs = self._obs
        return closed_loop_report(obs.objects, obs.agent, self.width, self.height, self._rooms, self._memory,
                                  self._steps)

    def perception_state(self) -> dict[str, Any]:
        """Structured privileged ground truth of the current frame for tool-using agents
        (:func:`~embodied_gym.envs.perception.frame_state`)."""
        if self.episode is None:
            raise RuntimeError("perception_state() needs a running episode; call reset()")
        return frame_state(self._obs, self.width, self.height)

    def _privileged(self, sim: Simulator) -> dict[str, Any]:
        """The evaluator's view of task progress (``info["privileged"]``; see the class docstring)."""
        tracker = self.tracker
        assert tracker is not None
        return {"subgoals_met": tracker.index, "finish_would_succeed": tracker.success_on_finish(self._state(self._obs)),
                "pose": list(self._obs.agent.to_list())}

    # -- helpers ---------------------------------------------------------------------------
    def _simulator(self) -> Simulator:
        if self.sim is None:
            self.sim = build_simulator(self.backend, self.width, self.height, self.sim_kwargs)
        return self.sim

    def _resolve(self, action: Any) -> tuple[str | None, str]:
        assert self.sim is not None
        return resolve_action(action, self.sim.actions)

    def _state(self, obs: Observation) -> TaskState:
        assert self.sim is not None
        return TaskState.live(self.sim, obs)

    def _distance(self, subgoal, obs: Observation) -> float:
        point = subgoal_target_point(subgoal, obs.objects)
        return math.inf if point is None else self._geodesic(obs.agent, point)

    def _geodesic(self, start: Any, point: Sequence[float]) -> float:
        """Geodesic distance from ``start`` to ``point``. A point off the navigable grid (an object
        inside or on furniture) that the backend cannot route to is reached through the navigable
        cells (with every door open) around it: the minimum of geodesic-to-cell plus the straight
        remainder over the 12 cells nearest to it (within ``OFF_GRID_MAX`` metres)."""
        d = float(self.sim.geodesic_distance(start, point))
        if math.isfinite(d) or not len(self._nav_cells):
            return d
        xz = np.asarray(pose_xz(point), dtype=np.float64)
        gaps = np.hypot(self._nav_cells[:, 0] - xz[0], self._nav_cells[:, 1] - xz[1])
        for i in np.argsort(gaps, kind="stable")[:12]:
            if gaps[i] <= OFF_GRID_MAX:
                d = min(d, float(self.sim.geodesic_distance(start, tuple(self._nav_cells[i]))) + float(gaps[i]))
        return d

    def _distance_to_current(self, obs: Observation) -> float:
        if not self.shaped_reward or self.tracker.current is None:
            return math.inf
        return self._distance(self.tracker.current, obs)

    def _measure_house(self, sim: Simulator, ep: Episode) -> tuple[CoverageGrid, float | None]:
        """The coverage grid and the shortest path length, both measured with every door open
        (the doors that were closed are closed again afterwards: nothing else changes, and unlike
        ``restore`` this renders no frame that nobody looks at)."""
        current = sim.reachable_positions()
        closed = [o.id for o in sim.objects().values() if o.openable and not o.is_open]
        try:
            for door in closed:
                sim.set_object_state(door, is_open=True)
            every = sim.reachable_positions() if closed else current
            self._nav_cells = np.asarray(every, dtype=np.float64).reshape(-1, 2)
            shortest = self._shortest_path_length(ep)
        finally:
            for door in closed:
                sim.set_object_state(door, is_open=False)
        rooms = [r.bounds for r in sim.rooms()]
        return CoverageGrid(every, transparent=current, rooms=rooms), shortest

    def _see(self, obs: Observation) -> None:
        cells = self._coverage.cells
        if not len(cells):
            return
        eye = obs.agent.y + float(self.sim.camera_height)
        points = np.column_stack([cells[:, 0], np.full(len(cells), eye), cells[:, 1]])
        uv, front = self.sim.project(points)
        self._coverage.observe(obs.agent.xz, uv, front, self.width, self.view_distance)

    def _shortest_path_length(self, ep: Episode) -> float | None:
        """min(expert demonstration's path, geodesic chain start -> each subgoal's target point
        with each leg shortened by the subgoal's radius / the interaction distance). Called with
        every door open."""
        options: list[float] = []
        if ep.demonstration is not None:
            options.append(path_length([p.xz for p in ep.demonstration.poses]))
        sim, objects = self.sim, self.sim.objects()
        here, chain = ep.start_pose.position, 0.0
        for sg in ep.subgoals:
            point = subgoal_target_point(sg, objects)
            if point is None:
                continue
            leg = self._geodesic(here, point)
            reach = sg.radius if sg.type in ("reach_object", "reach_pose") else sim.interact_distance
            chain += max(0.0, leg - reach)
            here = point
        if math.isfinite(chain):
            options.append(chain)
        return min(options) if options else None

    def _result(self, success: bool, truncated: bool) -> dict[str, Any]:
        ep, obs = self.episode, self._obs
        current = min(self.tracker.index, len(ep.subgoals) - 1)
        why = attribute(self._trace.records, ep.subgoals, success=success, truncated=truncated,
                        interact_distance=float(self.sim.interact_distance),
                        final_rival_distance=self._trace.rival_distance(current, obs.objects, obs.agent))
        point = subgoal_target_point(ep.subgoals[-1], obs.objects)
        gde = self._geodesic(obs.agent, point) if point is not None else None
        gde_e = math.dist(obs.agent.xz, pose_xz(point)) if point is not None else None
        return make_episode_result(
            episode_id=ep.id, category=ep.category, split=ep.split, success=success,
            path_length=path_length(self._positions), shortest_path_length=self._shortest, gde=gde,
            gde_euclidean=gde_e, subgoal_completion=self.tracker.completion, coverage=self._coverage.coverage,
            invalid_actions=self._invalid, steps=self._steps, domain=ep.domain, **why.to_dict(),
        )

    def _observation(self, feedback: str) -> dict[str, Any]:
        obs: dict[str, Any] = {
            "image": np.array(self._obs.rgb, dtype=np.uint8, copy=True),
            "instruction": clean_text(self.episode.instruction, len(self.episode.instruction), self._charset),
            "step": self._steps,
            "feedback": clean_text(feedback, FEEDBACK_MAX, self._charset),
        }
        if self.history:
            frames = list(self._frames)[-self.history:]
            pad = [np.zeros((self.height, self.width, 3), np.uint8)] * (self.history - len(frames))
            obs["history"] = np.stack(pad + [np.asarray(f, np.uint8) for f in frames])
        return obs
