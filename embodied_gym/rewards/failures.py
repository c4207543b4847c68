"""Automatic failure attribution for closed-loop episodes.

A closed-loop environment records one :class:`StepRecord` per frame the agent saw (the frame after
``reset`` and the frame after every step) with :class:`TraceRecorder`, from the simulator's ground
truth of that frame: the agent's position, which objects had pixels, how many subgoals were met in
order, which subgoals held, the ground-plane distance to each subgoal's object and whether another
object of the target's category was within the subgoal's radius. At the end of a failed episode
:func:`attribute` turns the trace into exactly one **primary mode** and the list of every other
mode that also holds (**flags**). The rules only read the trace, so a recorded trace can be
re-attributed offline.

Definitions. The *current subgoal* is the first subgoal not met (in order) at the end of the
episode (the last one when all were met but the episode still failed). Its *object* is the target
for ``reach_object`` / ``pick`` / ``open`` and the receptacle for ``place`` (``reach_pose`` has
none). Distances are Euclidean on the ground plane (this is a diagnosis, not the success rule,
which stays :mod:`embodied_gym.rewards.progress`).

Rules, in the order in which they win the primary mode:

1. ``invalid_output``: more than half of the steps' replies could not be read as an action, or
   the episode was ended by an invalid action (``invalid_action="fail"``).
2. ``premature_finish`` at once: ``Finish`` was the first step.
3. ``wrong_order``: a later subgoal held at a frame while an earlier one was still unmet
   (multi-stage targets visited out of order).
4. ``interaction_failed``: the current subgoal is ``pick`` / ``place`` / ``open`` and the agent
   was within interaction reach of its object at some frame, yet the subgoal was never met.
5. ``wrong_referent``: while a ``reach_object`` / ``pick`` subgoal was current, the agent came
   within its radius of another object of the target's category, or ended nearer to such a rival
   than to the target (spatial-semantic drift).
6. ``never_saw_target``: the current subgoal's object never had a pixel in any frame
   (exploration failure).
7. ``lost_target``: the object had pixels in some frame, left the view, and had none in the last
   frame (the target was not found again).
8. ``premature_finish``: ``Finish`` was called while the goal did not hold.
9. ``out_of_steps``: the step budget ran out (the episode was truncated).

Every failed episode ends by ``Finish`` (rule 8 or earlier), by an invalid action (rule 1) or by
running out of steps (rule 9), so every failed episode gets a primary mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..episodes.spec import Subgoal
from ..sims.base import ObjectInfo, Pose
from .progress import TaskState, subgoal_met, subgoal_target_point

#: Primary modes in the order in which their rules win (``premature_finish`` has two rules).
FAILURE_MODES: tuple[str, ...] = (
    "invalid_output",
    "premature_finish",
    "wrong_order",
    "interaction_failed",
    "wrong_referent",
    "never_saw_target",
    "lost_target",
    "out_of_steps",
)
INTERACTIONS = frozenset({"pick", "place", "open"})
_REFERENT_TYPES = frozenset({"reach_object", "pick"})


def subgoal_object(subgoal: Subgoal) -> int | None:
    """The object a subgoal is about: the receptacle of a ``place``, else its target (``None`` for
    ``reach_pose``)."""
    if subgoal.type == "place":
        return subgoal.receptacle
    return subgoal.target if subgoal.type != "reach_pose" else None


@dataclass
class StepRecord:
    """Ground truth of one frame the agent saw (``step`` 0 is the frame after ``reset``).

    ``distances[i]`` is the ground-plane distance to subgoal ``i``'s target point (``None`` when
    it has none); ``holding`` lists the subgoals whose condition held in this frame; ``rival_near``
    the subgoals with another object of the target's category within the subgoal's radius."""

    step: int
    action: str | None
    invalid: bool
    action_success: bool
    position: tuple[float, float]
    visible: list[int]
    met: int
    holding: list[int]
    distances: list[float | None]
    rival_near: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class TraceRecorder:
    """Records :class:`StepRecord` s for one episode from live observations.

    ``objects`` are the scene's object records at the start (used to find, per subgoal, the other
    objects of its target's category)."""

    def __init__(self, subgoals: Sequence[Subgoal], objects: Mapping[int, ObjectInfo]):
        self.subgoals = list(subgoals)
        self.records: list[StepRecord] = []
        self._rivals: list[list[int]] = []
        for sg in self.subgoals:
            target = objects.get(sg.target) if sg.type in _REFERENT_TYPES and sg.target is not None else None
            self._rivals.append(
                [] if target is None else
                [o.id for o in objects.values() if o.category == target.category and o.id != target.id])

    def record(self, step: int, action: str | None, invalid: bool, action_success: bool, agent: Pose,
               held_object: int | None, objects: Mapping[int, ObjectInfo], met: int) -> StepRecord:
        """Append the record of one frame and return it."""
        state = TaskState(agent, held_object, objects)
        distances: list[float | None] = []
        rival_near: list[int] = []
        for i, sg in enumerate(self.subgoals):
            point = subgoal_target_point(sg, objects)
            distances.append(None if point is None else round(state.distance(point), 3))
            for rid in self._rivals[i]:
                rival = objects.get(rid)
                if rival is not None and state.distance(rival.position) <= sg.radius:
                    rival_near.append(i)
                    break
        rec = StepRecord(
            step=step, action=action, invalid=invalid, action_success=action_success,
            position=(round(agent.x, 3), round(agent.z, 3)),
            visible=sorted(o.id for o in objects.values() if o.visible),
            met=met, holding=[i for i, sg in enumerate(self.subgoals) if subgoal_met(sg, state)],
            distances=distances, rival_near=rival_near,
        )
        self.records.append(rec)
        return rec

    def rival_distance(self, index: int, objects: Mapping[int, ObjectInfo], agent: Pose) -> float | None:
        """Ground-plane distance from ``agent`` to the nearest rival of subgoal ``index``."""
        state = TaskState(agent, None, objects)
        ds = [state.distance(objects[r].position) for r in self._rivals[index] if r in objects]
        return min(ds) if ds else None


@dataclass
class Attribution:
    """The result of :func:`attribute`: ``mode`` (``None`` for a successful episode), ``flags``
    (the other modes that hold, in rule order) and ``evidence`` (the facts the rules used)."""

    mode: str | None
    flags: list[str]
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"failure_mode": self.mode, "failure_flags": list(self.flags), "failure_evidence": dict(self.evidence)}


def attribute(
    records: Sequence[StepRecord],
    subgoals: Sequence[Subgoal],
    *,
    success: bool,
    truncated: bool,
    interact_distance: float = 1.5,
    final_rival_distance: float | None = None,
) -> Attribution:
    """Attribute a failed episode's trace to one primary mode plus flags (module docstring).

    ``records[0]`` is the frame after ``reset``; ``truncated`` says the episode ran out of steps;
    ``final_rival_distance`` is the distance from the final position to the nearest rival of the
    current subgoal's target, when the caller knows it."""
    if success:
        return Attribution(None, [], {})
    if not records or not subgoals:
        return Attribution("out_of_steps" if truncated else "premature_finish", [], {"reason": "empty trace"})
    steps = records[1:]
    last = records[-1]
    current = min(last.met, len(subgoals) - 1)
    sg = subgoals[current]
    obj = subgoal_object(sg)
    seen = [r.step for r in records if obj is not None and obj in r.visible]
    n_invalid = sum(1 for r in steps if r.invalid)
    ended_by = "invalid" if steps and steps[-1].invalid and not truncated else (
        "finish" if steps and steps[-1].action == "Finish" else ("truncated" if truncated else "other"))
    evidence: dict[str, Any] = {
        "current_subgoal": current, "subgoal_type": sg.type, "object": obj, "steps": len(steps),
        "invalid_steps": n_invalid, "ended_by": ended_by,
        "first_seen": seen[0] if seen else None, "last_seen": seen[-1] if seen else None,
    }
    holds: list[str] = []
    if (steps and n_invalid * 2 > len(steps)) or ended_by == "invalid":
        holds.append("invalid_output")
    if steps and steps[0].action == "Finish":
        holds.append("premature_finish")
    out_of_order = [(r.step, j) for r in records for j in r.holding if j > r.met]
    if out_of_order:
        evidence["out_of_order"] = {"step": out_of_order[0][0], "subgoal": out_of_order[0][1]}
        holds.append("wrong_order")
    if sg.type in INTERACTIONS:
        near = [r.distances[current] for r in records if r.met == current and r.distances[current] is not None]
        closest = min(near) if near else None
        evidence["closest_distance"] = closest
        if closest is not None and closest <= interact_distance:
            holds.append("interaction_failed")
    drift = [r.step for r in records if r.met < len(subgoals) and r.met in r.rival_near
             and subgoals[r.met].type in _REFERENT_TYPES]
    final_target = last.distances[current]
    ended_at_rival = (sg.type in _REFERENT_TYPES and final_rival_distance is not None and final_target is not None
                      and final_rival_distance < final_target)
    if drift or ended_at_rival:
        evidence["rival_step"] = drift[0] if drift else None
        holds.append("wrong_referent")
    if obj is not None and not seen:
        holds.append("never_saw_target")
    if seen and obj not in last.visible:
        holds.append("lost_target")
    if ended_by == "finish" and "premature_finish" not in holds:
        holds.append("premature_finish")
    if truncated:
        holds.append("out_of_steps")
    if not holds:  # ended otherwise (e.g. an invalid action that did not end it): the budget's end
        holds.append("out_of_steps")
    primary = holds[0]
    return Attribution(primary, [m for m in dict.fromkeys(holds) if m != primary], evidence)


def summarize_failures(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts of primary failure modes over failed episodes: ``{"overall": {mode: n},
    "by_category": {category: {mode: n}}, "flags": {mode: n}, "n_failed": n}``. Every mode of
    :data:`FAILURE_MODES` is listed (zeros included) so tables line up across runs; episodes
    without a ``failure_mode`` (successes, or results of an older run) are not counted."""
    overall = dict.fromkeys(FAILURE_MODES, 0)
    flags = dict.fromkeys(FAILURE_MODES, 0)
    by_category: dict[str, dict[str, int]] = {}
    n = 0
    for r in results:
        mode = r.get("failure_mode") if isinstance(r, Mapping) else None
        if mode is None or r.get("success"):
            continue
        n += 1
        overall[mode] = overall.get(mode, 0) + 1
        cat = by_category.setdefault(str(r.get("category")), dict.fromkeys(FAILURE_MODES, 0))
        cat[mode] = cat.get(mode, 0) + 1
        for f in r.get("failure_flags") or []:
            flags[f] = flags.get(f, 0) + 1
    return {"overall": overall, "by_category": dict(sorted(by_category.items())), "flags": flags, "n_failed": n}
