"""The expert: the next action (with a first-person rationale) from the live simulator state.

:func:`next_action` reads the simulator (pose, objects, what is held, door states) and the
episode's :class:`~embodied_gym.rewards.progress.SubgoalTracker`, works on the first unmet
subgoal (:mod:`embodied_gym.rewards.progress` is the one definition of "met") and returns
``(action, rationale)``:

* ``Finish`` when the last subgoal holds and every earlier one has been met in order;
* an interaction (``PickObject``, ``DropObject``, ``OpenDoor``) when the agent stands within
  reach of its object and faces it; ``DropObject`` first when it holds an object the task does
  not need (recovery from an agent's wrong pick);
* otherwise the first action of the shortest action sequence (:func:`~.planner.plan_actions`,
  A* on the turn/move lattice over navigable space, guided by geodesic distance) to a pose
  within the success radius (reach subgoals) or within reach (interactions), facing the target.

It has no state of its own that could go stale: plans are cached per simulator and reused only
while the simulator is exactly where the plan expected it, so the oracle recovers from whatever
the agent did (random actions, a dropped object, an opened door). Moves or interactions that the
backend refused are remembered (per simulator and episode) and planned around.

:func:`demonstrate` runs the oracle from the episode's start pose and records a
:class:`~embodied_gym.episodes.spec.Demonstration`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any

from ..rewards.progress import SubgoalTracker, TaskState, subgoal_met
from ..sims.base import Observation, Pose, Simulator
from ..sims.geometry import relative_bearing
from .goals import free_predicate, pitch_toward, room_of_point
from .planner import NavGrid, Plan, plan_actions, pose_key
from .rationale import Decision, explain
from .spec import Demonstration, Episode, Subgoal

#: metres kept inside the success radius when planning reach subgoals (grid and geodesic
#: approximations differ by up to about half a grid cell)
REACH_MARGIN = 0.3
#: metres kept inside the backend's interaction distance
INTERACT_MARGIN = 0.15
#: refused interactions tolerated per episode before the oracle gives up
MAX_FAILURES = 12
#: demonstrations stop after this many actions (a failed demonstration is an error)
DEMO_STEP_LIMIT = 400


class OracleError(RuntimeError):
    """The oracle could not find a way to complete the episode from the current state."""


@dataclass
class _Memory:
    """Per-simulator cache: the navigation grid per door state, the current plan, failures."""

    episode_id: str = ""
    grids: dict[tuple, NavGrid] = field(default_factory=dict)
    plan: Plan | None = None
    plan_key: tuple = ()
    cursor: int = 0
    blocked: set[tuple[int, int, int]] = field(default_factory=set)
    failed: set[tuple[str, tuple[int, int, int]]] = field(default_factory=set)
    #: (action returned, pose, held object, intended object) of the previous call
    last: tuple[str, Pose, int | None, int | None] | None = None
    margin: float = REACH_MARGIN
    margin_subgoal: int = -1
    just_met: bool = False  # the active subgoal changed since the previous call


_MEMORY: weakref.WeakKeyDictionary[Simulator, _Memory] = weakref.WeakKeyDictionary()
_INTERACTION = {"pick": "PickObject", "drop": "DropObject", "open": "OpenDoor", "clear": "DropObject"}


def _same_place(a: Pose, b: Pose) -> bool:
    """Same position and heading (pitch is ignored: plans are made with a level gaze)."""
    return abs(a.x - b.x) < 1e-3 and abs(a.z - b.z) < 1e-3 and abs(((a.yaw - b.yaw + 180.0) % 360.0) - 180.0) < 0.5


def _door_state(objects) -> tuple:
    return tuple(sorted((i, bool(o.is_open)) for i, o in objects.items() if o.kind == "door"))


def _memory(sim: Simulator, episode: Episode, step: int) -> _Memory:
    """The cache for ``sim``; a fresh one for a new episode or a new run (step 0)."""
    mem = _MEMORY.get(sim)
    if mem is None or mem.episode_id != episode.id or step == 0:
        mem = _Memory(episode_id=episode.id)
        _MEMORY[sim] = mem
    return mem


def _note_failures(mem: _Memory, obs: Observation) -> None:
    """Remember what did not work at the previous call's pose: a refused move, a refused
    interaction, a pick that took another object, a drop that missed the receptacle."""
    if mem.last is None:
        return
    action, pose, held, intended = mem.last
    if obs.last_action is not None and obs.last_action != action:
        return  # the agent did something else than what the oracle advised
    here = _same_place(pose, obs.agent)
    if not here:
        return
    refused = obs.last_action is not None and not obs.last_action_success
    if action == "MoveForward" and (refused or obs.last_action is None):
        mem.blocked.add(pose_key(pose))
        mem.plan = None
    elif action == "PickObject" and (refused or obs.held_object != intended):
        mem.failed.add((action, pose_key(pose)))
        mem.plan = None
    elif action == "DropObject" and intended is not None:
        dropped = obs.objects.get(held) if held is not None else None
        if refused or dropped is None or dropped.on != intended:
            mem.failed.add((action, pose_key(pose)))
            mem.plan = None
    elif action in ("DropObject", "OpenDoor") and refused:
        mem.failed.add((action, pose_key(pose)))
        mem.plan = None


def next_action(
    sim: Simulator, episode: Episode, tracker: SubgoalTracker, obs: Observation | None = None
) -> tuple[str, str]:
    """The expert's next action for ``episode`` from the simulator's current state, and a
    first-person rationale grounded in the current observation (``obs`` when the caller has the
    latest one, else ``sim.observe()``). Raises :class:`OracleError` when no plan completes the
    current subgoal."""
    obs = obs if obs is not None else sim.observe()
    mem = _memory(sim, episode, obs.step)
    _note_failures(mem, obs)
    mem.just_met = False
    decision = _decide(sim, episode, tracker, obs, mem)
    decision.extra.setdefault("just_met", mem.just_met)
    intended = decision.focus if decision.action in ("PickObject", "DropObject") and decision.reason != "drop_wrong" else None
    mem.last = (decision.action, obs.agent, obs.held_object, intended)
    return decision.action, explain(sim, episode, obs, decision)


def _effective_index(subgoals: list[Subgoal], tracker: SubgoalTracker, state: TaskState) -> int:
    """The tracker's index, advanced past subgoals that hold right now (the env updates its
    tracker after each step; this only matters when the oracle is asked before that)."""
    i = tracker.index
    while i < len(subgoals) and subgoal_met(subgoals[i], state):
        i += 1
    return i


def _decide(sim: Simulator, episode: Episode, tracker: SubgoalTracker, obs: Observation, mem: _Memory) -> Decision:
    subgoals = episode.subgoals
    state = TaskState.live(sim, obs)
    index = _effective_index(subgoals, tracker, state)
    if index >= len(subgoals) - 1 and subgoal_met(subgoals[-1], state):
        last, focus = subgoals[-1], _focus(subgoals[-1], obs.held_object)
        target = obs.objects.get(focus) if focus is not None else None
        if (
            last.type == "reach_object" and target is not None and not target.visible
            and target.position[1] + target.size[1] < sim.camera_height
            and obs.agent.pitch - sim.look_step >= -45.0 and abs(relative_bearing(obs.agent, target.position)) < 30.0
        ):  # the target is at my feet, below the frame: look down to confirm it before finishing
            return Decision("LookDown", "confirm", len(subgoals) - 1, focus)
        placed = {"placed_on": last.receptacle} if last.type == "place" else {}
        return Decision("Finish", "finish", len(subgoals) - 1, last.target if last.type == "place" else focus, extra=placed)
    active = min(index, len(subgoals) - 1)
    sg = subgoals[active]
    mem.just_met = mem.margin_subgoal != active and mem.margin_subgoal >= 0
    if mem.margin_subgoal != active:
        mem.margin, mem.margin_subgoal = REACH_MARGIN, active
    pose = obs.agent
    held = obs.held_object
    if sg.type in ("pick", "place") and held is not None and held != sg.target:
        if ("DropObject", pose_key(pose)) not in mem.failed:
            return Decision("DropObject", "drop_wrong", active, held)
        mode, focus = "clear", held  # cannot drop here: move on and try again elsewhere
    elif sg.type == "pick" or (sg.type == "place" and held != sg.target):
        mode, focus = "pick", sg.target
    elif sg.type == "place":
        mode, focus = "drop", sg.receptacle
    elif sg.type == "open":
        mode, focus = "open", sg.target
    else:
        mode, focus = "reach", sg.target if sg.type == "reach_object" else None
    point = _point(sg, mode, focus, obs)
    if point is None:
        raise OracleError(f"episode {episode.id!r}: subgoal {active} ({sg.type}) has no target in the scene")
    plan = _plan(sim, episode, mem, obs, active, mode, focus, point, sg)
    if not plan.actions and mode != "reach":
        target = obs.objects.get(focus) if focus is not None else None
        if mode in ("pick", "open") and target is not None:
            want = pitch_toward(sim, pose, target)
            if abs(want - pose.pitch) > 1e-3 and not (target.visible and mode == "open"):
                # within reach and facing it: tilt the camera so that it is in the frame
                return Decision("LookUp" if want > pose.pitch else "LookDown", "look", active, focus, plan=plan, mode=mode)
            if not target.visible:  # hidden although it should be in the frame: try elsewhere
                mem.failed.add((_INTERACTION[mode], pose_key(pose)))
                mem.plan = None
                if len(mem.failed) > MAX_FAILURES:
                    raise OracleError(f"episode {episode.id!r}: the {target.category} cannot be seen from within reach")
                return _decide(sim, episode, tracker, obs, mem)
        return Decision(_INTERACTION[mode], "drop_wrong" if mode == "clear" else mode, active, focus, plan=plan, mode=mode)
    while not plan.actions:  # at the planned goal but the reach subgoal does not hold: aim deeper
        mem.margin += 0.25
        mem.plan = None
        if mem.margin > sg.radius:
            raise OracleError(f"episode {episode.id!r}: cannot satisfy subgoal {active} ({sg.type}) from {pose.to_list()}")
        plan = _plan(sim, episode, mem, obs, active, mode, focus, point, sg)
    if abs(pose.pitch) > 1e-3:  # walk with a level gaze
        return Decision("LookUp" if pose.pitch < 0 else "LookDown", "level", active, focus, plan=plan, mode=mode)
    mem.cursor += 1
    reason = "face" if _facing_soon(plan) else "path"
    return Decision(plan.actions[0], reason, active, focus, plan=plan, mode=mode, )


def _facing_soon(plan: Plan) -> bool:
    """Whether the plan only turns from here (the agent is turning to face its target)."""
    return all(a in ("TurnLeft", "TurnRight") for a in plan.actions)


def _focus(sg: Subgoal, held: int | None) -> int | None:
    if sg.type == "place":
        return sg.receptacle if held == sg.target else sg.target
    return sg.target


def _point(sg: Subgoal, mode: str, focus: int | None, obs: Observation) -> tuple[float, float, float] | None:
    if focus is not None and focus in obs.objects:
        return tuple(obs.objects[focus].position)  # type: ignore[return-value]
    if mode in ("drop", "reach") and sg.pose is not None:
        return sg.pose.position
    return None


def _grid(sim: Simulator, mem: _Memory, obs: Observation) -> NavGrid:
    key = _door_state(obs.objects)
    if key not in mem.grids:
        mem.grids[key] = NavGrid(sim.reachable_positions(), free=free_predicate(sim))
    return mem.grids[key]


def _plan(sim, episode, mem: _Memory, obs: Observation, active: int, mode: str, focus, point, sg: Subgoal) -> Plan:
    pose = obs.agent.with_(pitch=0.0)
    key = (active, mode, focus, obs.held_object, _door_state(obs.objects), round(mem.margin, 3))
    if mem.plan is not None and mem.plan_key == key and mem.cursor < len(mem.plan.poses):
        if _same_place(mem.plan.poses[mem.cursor], pose):
            return Plan(mem.plan.actions[mem.cursor :], mem.plan.poses[mem.cursor :])
    grid = _grid(sim, mem, obs)
    field_ = grid.field_to((point[0], point[2]))
    half_turn = sim.turn_step / 2.0 + 1e-6
    reach = sim.interact_distance - INTERACT_MARGIN
    goal_distance = 0.0
    room = room_of_point(sim, obs, focus, point)

    def _same_room(p: Pose) -> bool:
        """Walls are room boundaries: interacting across one is impossible."""
        return room is None or room.contains(p.x, p.z)

    if mode == "reach":
        limit = sg.radius - mem.margin
        goal_distance = max(0.0, limit)

        def goal(p: Pose) -> bool:
            return grid.value(field_, p.x, p.z) <= limit and abs(relative_bearing(p, point)) <= half_turn

    elif mode == "clear":
        start_key = pose_key(pose)

        def goal(p: Pose) -> bool:
            return pose_key(p) != start_key and ("DropObject", pose_key(p)) not in mem.failed

    elif mode == "drop":
        hits: dict[tuple[int, int, int], int | None] = {}

        def goal(p: Pose) -> bool:
            if math.hypot(p.x - point[0], p.z - point[2]) > reach + 1.0 or not _same_room(p):
                return False
            key = pose_key(p)
            if key not in hits:
                hits[key] = sim.drop_target(p)
            return hits[key] == focus and ("DropObject", key) not in mem.failed

    else:
        action = _INTERACTION[mode]
        hfov = 35.0
        others = [o for i, o in sorted(obs.objects.items()) if mode == "pick" and o.pickable and not o.held and i != focus]

        def dist3(p: Pose, q) -> float:
            return math.sqrt((p.x - q[0]) ** 2 + q[1] ** 2 + (p.z - q[2]) ** 2)

        def goal(p: Pose) -> bool:
            d = dist3(p, point)
            if d > reach or abs(relative_bearing(p, point)) > half_turn:
                return False
            if (action, pose_key(p)) in mem.failed:
                return False
            if mode == "pick" and not _same_room(p):
                return False
            # the backend picks the nearest object in view: no other one may be nearer
            return not any(dist3(p, o.position) <= d + 0.05 and abs(relative_bearing(p, o.position)) < hfov for o in others)

    plan = plan_actions(
        grid, pose, goal, field_, move_step=sim.move_step, turn_step=sim.turn_step,
        goal_distance=goal_distance, blocked=frozenset(mem.blocked),
    )
    if plan is None:
        raise OracleError(f"episode {episode.id!r}: no path to subgoal {active} ({sg.type}) from {pose.to_list()}")
    mem.plan, mem.plan_key, mem.cursor = plan, key, 0
    return plan


# ---------------------------------------------------------------------------------------------
# demonstrations


def _object_states(sim: Simulator, initial: dict[int, Any]) -> dict[str, dict[str, Any]]:
    """Objects whose position, held flag or openness differ from the scene's initial state."""
    out: dict[str, dict[str, Any]] = {}
    for i, o in sim.objects().items():
        o0 = initial.get(i)
        if o0 is None:
            continue
        moved = any(abs(a - b) > 1e-6 for a, b in zip(o.position, o0.position, strict=False))
        if moved or o.held != o0.held or o.is_open != o0.is_open:
            rec: dict[str, Any] = {"position": [round(float(v), 4) for v in o.position], "held": bool(o.held)}
            if o.is_open is not None:
                rec["is_open"] = bool(o.is_open)
            out[str(i)] = rec
    return out


def demonstrate(sim: Simulator, episode: Episode, *, reset: bool = True) -> Demonstration:
    """Run the oracle from the episode's start pose until it calls ``Finish`` and record the
    actions, poses, rationales and per-step states of objects that changed. With ``reset`` the
    simulator first loads ``episode.scene``. Raises :class:`OracleError` when the oracle does not
    finish within :data:`DEMO_STEP_LIMIT` actions or finishes without success."""
    if reset:
        sim.reset(episode.scene)
    obs = sim.teleport(episode.start_pose)
    if not obs.last_action_success:
        raise OracleError(f"episode {episode.id!r}: start pose {episode.start_pose.to_list()} is not navigable")
    _MEMORY.pop(sim, None)
    initial = sim.objects()
    tracker = SubgoalTracker(list(episode.subgoals))
    tracker.update(TaskState.live(sim, obs), 0)
    actions: list[str] = []
    poses: list[Pose] = [obs.agent]
    rationales: list[str] = []
    states: list[dict[str, dict[str, Any]]] = []
    for step in range(1, DEMO_STEP_LIMIT + 1):
        states.append(_object_states(sim, initial))
        action, why = next_action(sim, episode, tracker, obs)
        actions.append(action)
        rationales.append(why)
        obs = sim.step(action)
        poses.append(obs.agent)
        state = TaskState.live(sim, obs)
        tracker.update(state, step)
        if action == "Finish":
            if not tracker.success_on_finish(state):
                raise OracleError(f"episode {episode.id!r}: the oracle finished without success")
            break
    else:
        raise OracleError(f"episode {episode.id!r}: no Finish within {DEMO_STEP_LIMIT} steps")
    _MEMORY.pop(sim, None)
    if not any(states):
        states = []
    return Demonstration(actions, [_round_pose(p) for p in poses], rationales, states)


def replay_demonstration(sim: Simulator, episode: Episode) -> bool:
    """Reset ``sim`` to ``episode``, step its demonstration's actions and return whether the
    ``Finish`` succeeds (scored with :class:`SubgoalTracker`, as the environments do)."""
    if episode.demonstration is None:
        raise ValueError(f"episode {episode.id!r}: field 'demonstration': missing")
    sim.reset(episode.scene)
    obs = sim.teleport(episode.start_pose)
    tracker = SubgoalTracker(list(episode.subgoals))
    tracker.update(TaskState.live(sim, obs), 0)
    for i, action in enumerate(episode.demonstration.actions, 1):
        obs = sim.step(action)
        state = TaskState.live(sim, obs)
        tracker.update(state, i)
        if action == "Finish":
            return tracker.success_on_finish(state)
    return False


def _round_pose(p: Pose) -> Pose:
    return Pose(round(p.x, 4), round(p.y, 4), round(p.z, 4), round(p.yaw % 360.0, 3), round(p.pitch, 3))
