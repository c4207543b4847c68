"""What every BEAR query builder needs about one episode: the replay, names, plan and progress.

:class:`EpisodeContext` replays the demonstration once through the subgoal tracker to find the
step at which each subgoal is met, names every entity that has a unique name, and turns each
subgoal into its high-level step phrase.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...rewards.progress import SubgoalTracker, TaskState
from ...sims.base import ObjectInfo, Observation, RoomInfo, Simulator
from ..spec import Episode, Subgoal
from .language import name_of, step_phrase
from .options import LetterDeck, sample_history
from .replay import Replay

#: a target must cover at least this share of the frame for a grounding question
MIN_TARGET_SHARE = 0.0025
#: BEAR skill of each of our skill ids: (BEAR category, BEAR skill name)
BEAR_SKILLS: dict[str, tuple[str, str]] = {
    "next_action_prediction": ("Task Planning", "Next Action Prediction"),
    "task_process_reasoning": ("Task Planning", "Task Process Reasoning"),
    "object_localization": ("Spatial Reasoning", "Object Localization"),
    "path_planning": ("Spatial Reasoning", "Path Planning"),
    "relative_direction": ("Spatial Reasoning", "Relative Direction"),
    "pointing_general": ("Pointing", "General Object Pointing"),
    "pointing_spatial": ("Pointing", "Spatial Relationship Pointing"),
    "bbox_general": ("Bounding Box", "General Object Bounding Box"),
    "bbox_spatial": ("Bounding Box", "Spatial Relationship Bounding Box"),
    "trajectory_reasoning": ("Trajectory Reasoning", "Gripper Trajectory Reasoning"),
}


class QueryRejected(Exception):
    """A question cannot be asked at this episode/step (no unique name, target not visible...)."""


@dataclass
class EpisodeContext:
    """One episode, replayed. ``plan`` is the high-level plan (see :meth:`_plan`): a navigation
    step before each interaction subgoal; ``met_at[i]`` is the first demonstration step whose
    state has plan step ``i`` done (in order), ``steps[i]`` its phrase; ``names`` maps object
    ids to unique names; ``initial`` holds the scene's objects at the start."""

    sim: Simulator
    episode: Episode
    rng: random.Random
    deck: LetterDeck
    history_n: int = 16
    replay: Replay = field(init=False)
    initial: dict[int, ObjectInfo] = field(init=False)
    rooms: list[RoomInfo] = field(init=False)
    names: dict[int, str] = field(init=False)
    plan: list[dict[str, Any]] = field(init=False)
    steps: list[str] = field(init=False)
    met_at: list[int] = field(init=False)
    #: categories no other question may name (a target, a landmark, an "on" anchor, a route's
    #: goal): the surface the episode's object starts on, which its localization question asks
    #: for (episodes/bear/balance.py matches distractors to how often the truth was named)
    unnamed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.replay = Replay(self.sim, self.episode)
        self.initial = {k: v for k, v in self.sim.objects().items()}
        self.rooms = list(self.sim.rooms())
        self.names = {}
        for oid, obj in self.initial.items():
            n = name_of(obj, self.initial, self.rooms)
            if n:
                self.names[oid] = n
        for sg in self.episode.subgoals:
            for oid in (sg.target, sg.receptacle):
                if oid is not None and oid not in self.names:
                    raise QueryRejected(f"subgoal object {oid} has no unique name")
        self.plan = self._plan(self._progress())
        self.steps = [p["phrase"] for p in self.plan]
        self.met_at = [p["met"] for p in self.plan]

    @property
    def n_steps(self) -> int:
        return self.replay.n_steps

    @property
    def last(self) -> int:
        return self.replay.n_steps - 1

    def observe(self, t: int) -> Observation:
        return self.replay.observe(t)

    def _progress(self) -> list[int]:
        tracker = SubgoalTracker(list(self.episode.subgoals))
        for t in range(self.n_steps):
            obs = self.observe(t)
            state = TaskState(agent=obs.agent, held_object=obs.held_object, objects=obs.objects)
            tracker.update(state, t)
            if tracker.done:
                break
        if not tracker.done:
            raise QueryRejected(f"the demonstration meets only {tracker.index} of {len(tracker.subgoals)} subgoals")
        return list(tracker.met_at)

    def _plan(self, met: list[int]) -> list[dict[str, Any]]:
        """The high-level plan: before every interaction subgoal (pick, place, open) a navigation
        step "go to the <object>" (the receptacle for place), met on *arrival*: the state right
        after the last move of the demonstration before that interaction."""
        actions = self.episode.demonstration.actions  # type: ignore[union-attr]
        plan: list[dict[str, Any]] = []
        start = 0
        for sg, m in zip(self.episode.subgoals, met, strict=True):
            goal = sg.receptacle if sg.type == "place" else sg.target
            if sg.type in ("pick", "place", "open") and goal is not None:
                moves = [j for j in range(start, max(start, m - 1)) if actions[j] in ("MoveForward", "MoveBackward")]
                arrival = moves[-1] + 1 if moves else start
                go = Subgoal("reach_object", target=goal)
                plan.append({"type": "go", "target": goal, "phrase": step_phrase(go, self.names), "met": arrival})
            plan.append({"type": sg.type, "target": sg.target, "receptacle": sg.receptacle,
                         "phrase": step_phrase(sg, self.names), "met": m})
            start = m
        return plan

    def done_before(self, t: int) -> int:
        """How many subgoals are met (in order) in the state of step ``t``."""
        return sum(1 for m in self.met_at if m <= t)

    def segment(self, i: int) -> tuple[int, int]:
        """Steps ``(start, end)`` during which subgoal ``i`` is the current one."""
        start = self.met_at[i - 1] if i > 0 else 0
        return start, self.met_at[i]

    def history(self, t: int) -> list[int]:
        return sample_history(t, self.history_n)

    def min_pixels(self) -> int:
        return max(12, int(MIN_TARGET_SHARE * self.sim.width * self.sim.height))

    def pixels(self, obs: Observation, oid: int) -> int:
        return int(np.count_nonzero(obs.segmentation == oid))

    @property
    def split(self) -> str:
        return self.episode.split

    def shown_ids(self, t: int) -> set[int]:
        """Ids with at least :meth:`min_pixels` in some frame of the history sampled at ``t``."""
        seen: set[int] = set()
        for i in self.history(t):
            ids, counts = np.unique(self.observe(i).segmentation, return_counts=True)
            seen.update(int(j) for j, c in zip(ids, counts, strict=True) if c >= self.min_pixels())
        return seen

    def shown(self, oid: int, t: int) -> bool:
        """Whether some frame of the history sampled at ``t`` (the current view included)
        shows at least :meth:`min_pixels` of ``oid``."""
        return any(self.pixels(self.observe(i), oid) >= self.min_pixels() for i in self.history(t))

    def query(self, skill: str, t: int, question: str, answer: Any, target: int | None, **more: Any) -> dict[str, Any]:
        """A query record (see :mod:`embodied_gym.episodes.bear` for the fields)."""
        category, bear_name = BEAR_SKILLS[skill]
        rec: dict[str, Any] = {
            "skill": skill,
            "bear_category": category,
            "bear_skill": bear_name,
            "step": int(t),
            "question": question,
            "options": more.pop("options", {}),
            "answer": answer,
            "target": target,
            "history": self.history(t),
        }
        rec.update(more)
        return rec
