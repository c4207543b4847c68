"""Reward functions for step-wise GRPO: plain callables in trl's reward-function signature.

Each takes ``completions`` (strings, or conversational ``[{"role": "assistant", "content":
...}]`` lists) plus the dataset's extra columns as keyword arguments, returns one float per
completion, and never raises for any completion text:

* :func:`format_reward`: the ``<think>...</think><answer>Action</answer>`` contract: ``1.0`` when
  the whole reply is exactly that with a non-empty reasoning and an action of
  :data:`~embodied_gym.sims.base.ACTIONS`; ``0.5`` when only the answer part is right; else ``0``.
* :func:`action_match_reward`: ``1.0`` when the answered action equals the demonstrated one
  (column ``action``), the EmbRACE-style baseline reward.
* :class:`SimulatorProgressReward`: the *simulator-verified* reward. It puts a simulator (through
  :class:`~embodied_gym.sims.base.Simulator` only) in the state of the step (column ``episode``:
  the spec as JSON; column ``step``: replay of the demonstrated actions before it), executes the
  answered action and scores what happened, so any good action scores, not only the
  demonstrator's (see :meth:`SimulatorProgressReward.score` for the scale). Rows of recorded
  episodes (imported real data, no simulator to put in their state) get ``None``: trl leaves a
  ``None`` reward out of that sample's total.

The format and action-match rewards read the answer strictly: the text inside the last
``<answer>`` tags must be an action name (case and spaces ignored). The simulator-verified reward
executes the action *the evaluation would execute*: pass the environment's parser as ``parse``
(training does: :func:`embodied_gym.envs.text_actions.parse_action`, which also reads prose);
the default is the strict reader.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..episodes.spec import Episode
from ..sims.base import ACTIONS, Pose, SimState, Simulator
from ..sims.geometry import path_length, relative_bearing
from .progress import SubgoalTracker, TaskState, subgoal_target_point

_CANON = {a.lower(): a for a in ACTIONS}
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)
_FULL = re.compile(r"\s*<think>(.+?)</think>\s*<answer>\s*([A-Za-z ]+?)\s*</answer>\s*", re.DOTALL)


def completion_text(completion: Any) -> str:
    """The reply text of a completion in trl's standard (``str``) or conversational form."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content") if isinstance(completion[-1], dict) else None
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return ""


def answer_action(text: str) -> str | None:
    """The action in the last ``<answer>...</answer>`` of ``text``, or ``None``."""
    found = _ANSWER.findall(text) if isinstance(text, str) else []
    if not found:
        return None
    return _CANON.get(re.sub(r"\s+", "", found[-1]).lower())


def format_reward(completions: Sequence[Any], **_: Any) -> list[float]:
    """1.0 for the full format, 0.5 for a valid answer alone, else 0.0 (module docstring)."""
    out = []
    for c in completions:
        text = completion_text(c)
        full = _FULL.fullmatch(text)
        if full and full.group(1).strip() and _CANON.get(re.sub(r"\s+", "", full.group(2)).lower()):
            out.append(1.0)
        else:
            out.append(0.5 if answer_action(text) is not None else 0.0)
    return out


def action_match_reward(completions: Sequence[Any], action: Sequence[str], **_: Any) -> list[float]:
    """1.0 when the answered action is the demonstrated ``action`` of the row, else 0.0."""
    return [1.0 if answer_action(completion_text(c)) == a else 0.0 for c, a in zip(completions, action, strict=True)]


@dataclass
class _StepState:
    snapshot: SimState
    tracker: SubgoalTracker


class SimulatorProgressReward:
    """Simulator-verified step reward (see :meth:`score`).

    ``make_sim(backend)`` returns a :class:`Simulator` (default:
    :func:`embodied_gym.sims.make_simulator` with ``sim_kwargs``); one simulator per backend is
    kept. The states of every demonstration step of the last ``cache_episodes`` episodes are
    cached as ``snapshot()`` s (built once by replaying the demonstration), so a reward costs one
    ``restore`` and one ``step``. ``parse(text) -> action or None`` reads the reply (default
    :func:`answer_action`). ``stats`` counts calls and seconds (for the benchmark)."""

    __name__ = "progress"

    def __init__(self, *, make_sim=None, parse=None, cache_episodes: int = 64, **sim_kwargs: Any) -> None:
        self._make_sim = make_sim
        self._parse = parse or answer_action
        self._sim_kwargs = {"width": 320, "height": 240, **sim_kwargs}
        self._sims: dict[str, Simulator] = {}
        self._states: OrderedDict[str, list[_StepState]] = OrderedDict()
        self._cells: dict[tuple, np.ndarray] = {}
        self.cache_episodes = cache_episodes
        self.stats = {"calls": 0, "seconds": 0.0, "replays": 0}

    # -- trl signature -----------------------------------------------------------------------
    def __call__(self, completions: Sequence[Any], episode: Sequence[str], step: Sequence[int], **_: Any) -> list[float | None]:
        import time

        t0 = time.perf_counter()
        out = []
        for c, spec, i in zip(completions, episode, step, strict=True):
            out.append(self.score(spec, int(i), self._parse(completion_text(c))))
        self.stats["calls"] += len(out)
        self.stats["seconds"] += time.perf_counter() - t0
        return out

    def close(self) -> None:
        for sim in self._sims.values():
            sim.close()
        self._sims.clear()
        self._states.clear()

    # -- scoring -------------------------------------------------------------------------------
    def score(self, spec: str | Episode, step: int, action: str | None) -> float | None:
        """Reward of ``action`` at demonstration step ``step`` of the episode ``spec``:

        * ``None`` for a recorded episode (no simulator state to verify against);
        * ``-1`` no valid action (the step is wasted), or ``Finish`` when the task is not done;
        * ``+1`` ``Finish`` when it succeeds, or any action after which the next subgoal is met
          (reached, picked, placed, opened);
        * ``-0.25`` an action the simulator refused (walking into a wall, picking nothing);
        * otherwise geodesic progress toward the current subgoal's target in units of one move
          (``(d_before - d_after) / move_step``, clipped to ``[-1, 1]``) plus the turn toward the
          next waypoint of the shortest path (``0.5 * (|bearing_before| - |bearing_after|) /
          180``): moving closer or turning toward the way scores, moving away or off it costs.
        """
        ep = spec if isinstance(spec, Episode) else _episode(spec)
        if ep.recorded:
            return None
        if action is None:
            return -1.0
        states = self._step_states(ep)
        if not 0 <= step < len(states):
            raise ValueError(f"episode {ep.id!r}: step {step} outside its demonstration (0..{len(states) - 1})")
        sim = self._sim(ep.backend)
        st = states[step]
        before_obs = sim.restore(st.snapshot)
        tracker = SubgoalTracker(list(st.tracker.subgoals), st.tracker.index, list(st.tracker.met_at))
        subgoal = tracker.current
        if action not in sim.actions:
            return -1.0
        obs = sim.step(action)
        state = TaskState.live(sim, obs)
        if action == "Finish":
            return 1.0 if tracker.success_on_finish(state) else -1.0
        if not obs.last_action_success:
            return -0.25
        if tracker.update(state, step + 1) > 0:
            return 1.0
        if subgoal is None:
            return 0.0
        point = subgoal_target_point(subgoal, obs.objects)
        if point is None:
            return 0.0
        d0, b0 = self._distance_bearing(sim, before_obs.agent, point)
        d1, b1 = self._distance_bearing(sim, obs.agent, point)
        progress = 0.0
        if math.isfinite(d0) and math.isfinite(d1):
            progress = max(-1.0, min(1.0, (d0 - d1) / sim.move_step))
        return progress + 0.5 * (abs(b0) - abs(b1)) / 180.0

    # -- helpers ---------------------------------------------------------------------------------
    def _sim(self, backend: str) -> Simulator:
        if backend not in self._sims:
            if self._make_sim is not None:
                self._sims[backend] = self._make_sim(backend)
            else:
                from ..sims import make_simulator

                self._sims[backend] = make_simulator(backend, **self._sim_kwargs)
        return self._sims[backend]

    def _step_states(self, ep: Episode) -> list[_StepState]:
        key = f"{ep.backend}|{ep.id}"
        if key in self._states:
            self._states.move_to_end(key)
            return self._states[key]
        demo = ep.demonstration
        if demo is None or not demo.actions:
            raise ValueError(f"episode {ep.id!r}: field 'demonstration': the simulator-verified reward needs one")
        sim = self._sim(ep.backend)
        sim.reset(ep.scene)
        obs = sim.teleport(ep.start_pose)
        tracker = SubgoalTracker(list(ep.subgoals))
        tracker.update(TaskState.live(sim, obs), 0)
        states = []
        for i, action in enumerate(demo.actions):
            states.append(_StepState(sim.snapshot(), SubgoalTracker(list(ep.subgoals), tracker.index, list(tracker.met_at))))
            obs = sim.step(action)
            tracker.update(TaskState.live(sim, obs), i + 1)
        self.stats["replays"] += 1
        self._states[key] = states
        while len(self._states) > self.cache_episodes:
            self._states.popitem(last=False)
        return states

    def _distance_bearing(self, sim: Simulator, pose: Pose, point: Sequence[float]) -> tuple[float, float]:
        """Geodesic distance to ``point`` (through the navigable cell nearest to it when the point
        itself is off the grid, e.g. an object on furniture) and the bearing of the first
        shortest-path waypoint (degrees, 0 = straight ahead)."""
        goal: Sequence[float] = point
        path = sim.shortest_path(pose, point)
        extra = 0.0
        if not path:
            cells = np.asarray(sim.reachable_positions(), dtype=np.float64).reshape(-1, 2)
            if not len(cells):
                return math.inf, 0.0
            gaps = np.hypot(cells[:, 0] - point[0], cells[:, 1] - point[2])
            j = int(np.argmin(gaps))
            goal, extra = (float(cells[j, 0]), 0.0, float(cells[j, 1])), float(gaps[j])
            path = sim.shortest_path(pose, goal)
            if not path:
                return math.inf, 0.0
        length = path_length(path) + extra
        ahead = next((p for p in path[1:] if math.dist(p, pose.xz) > 1e-6), (goal[0], goal[-1]))
        return length, relative_bearing(pose, (ahead[0], 0.0, ahead[1]))


_EPISODES: OrderedDict[str, Episode] = OrderedDict()


def _episode(spec: str) -> Episode:
    """The :class:`Episode` of a JSON spec (parsed once; the last 256 are kept)."""
    if spec in _EPISODES:
        return _EPISODES[spec]
    ep = Episode.from_dict(json.loads(spec))
    _EPISODES[spec] = ep
    while len(_EPISODES) > 256:
        _EPISODES.popitem(last=False)
    return ep
