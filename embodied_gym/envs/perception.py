"""Privileged perception: what a perfect perception module would tell an agent about a frame.

Used by the privileged-perception ablation (``egym eval ... --perception oracle``): the
environment (:meth:`perception_report` of the closed-loop and BEAR environments) writes, from the
simulator's ground truth of the frame the agent is looking at, the objects that have pixels in it
with their names, boxes (normalised ``[x1, y1, x2, y2]`` in 0-1), distance and direction; closed
loop adds the rooms of the house and where each named object was last seen in this episode. The
gap between a model with and without this text measures how much of its failure is perception.

Every report starts with :data:`HEADER`, so any prompt, log or figure that carries it is visibly
privileged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..sims.base import ObjectInfo, Observation, Pose, RoomInfo
from ..sims.geometry import relative_bearing

HEADER = "Privileged perception (oracle ground truth from the simulator, not the model's own vision):"
MAX_OBJECTS = 24


def direction(pose: Pose, point: Iterable[float]) -> str:
    """``"ahead"`` within 15 degrees of the heading, else ``"N deg left|right"`` (``"behind"``
    beyond 165 degrees)."""
    angle = relative_bearing(pose, tuple(point))
    if abs(angle) <= 15:
        return "ahead"
    if abs(angle) >= 165:
        return "behind"
    return f"{abs(angle):.0f} deg {'left' if angle > 0 else 'right'}"


def visible_objects(objects: Mapping[int, ObjectInfo], pose: Pose, width: int, height: int) -> list[dict]:
    """The objects with pixels in the frame, largest first (at most :data:`MAX_OBJECTS`): id,
    name, category, normalised box, distance in metres and direction from the agent."""
    seen = sorted((o for o in objects.values() if o.visible and o.bbox is not None),
                  key=lambda o: (-o.pixel_count, o.id))[:MAX_OBJECTS]
    rows = []
    for o in seen:
        x1, y1, x2, y2 = o.bbox
        rows.append({
            "id": o.id, "name": o.name, "category": o.category, "box": [round(x1 / width, 3), round(y1 / height, 3), round(x2 / width, 3), round(y2 / height, 3)],
            "distance": round(float(o.distance), 2), "direction": direction(pose, o.position),
        })
    return rows


def view_lines(objects: Mapping[int, ObjectInfo], pose: Pose, width: int, height: int) -> list[str]:
    rows = visible_objects(objects, pose, width, height)
    if not rows:
        return ["Visible objects: none."]
    return ["Visible objects (name, box [x1, y1, x2, y2] in 0-1, distance, direction):"] + [
        f"- {r['name']}: box {r['box']}, {r['distance']} m, {r['direction']}" for r in rows]


@dataclass
class PerceptionMemory:
    """Where each named object was last seen during one episode (closed loop)."""

    last_seen: dict[str, tuple[int, str | None, float, float]] = field(default_factory=dict)

    def update(self, step: int, objects: Mapping[int, ObjectInfo]) -> None:
        for o in objects.values():
            if o.visible:
                self.last_seen[o.name] = (step, o.room, float(o.position[0]), float(o.position[2]))


def closed_loop_report(objects: Mapping[int, ObjectInfo], pose: Pose, width: int, height: int,
                       rooms: Iterable[RoomInfo], memory: PerceptionMemory, step: int) -> str:
    """The closed-loop report: the view, the rooms, the last sighting of each object seen so far."""
    lines = [HEADER, *view_lines(objects, pose, width, height)]
    names = [r.name for r in rooms]
    if names:
        lines.append("Rooms of the house: " + ", ".join(names) + ".")
    if memory.last_seen:
        lines.append("Last seen (step, room, position x/z in metres, direction from here):")
        for name, (when, room, x, z) in sorted(memory.last_seen.items(), key=lambda kv: -kv[1][0])[:MAX_OBJECTS]:
            here = "this step" if when == step else f"step {when}"
            lines.append(f"- {name}: {here}, {room or 'unknown room'}, ({x:.1f}, {z:.1f}), {direction(pose, (x, 0.0, z))}")
    return "\n".join(lines)


def frame_state(obs: Observation, width: int, height: int) -> dict:
    """The structured ground truth of one frame for tool-using agents: ``objects`` (as
    :func:`visible_objects`), ``segmentation`` (``H x W`` object ids, 0 = none), ``depth`` (``H x W``
    metres, or ``None`` when the backend renders none) and ``distances`` (object id -> metres from
    the agent, for every object with pixels)."""
    return {
        "objects": visible_objects(obs.objects, obs.agent, width, height),
        "segmentation": obs.segmentation,
        "depth": obs.depth,
        "distances": {o.id: float(o.distance) for o in obs.objects.values() if o.visible},
    }


def frame_report(objects: Mapping[int, ObjectInfo], pose: Pose, width: int, height: int) -> str:
    """The BEAR report: the objects with pixels in the question's frame."""
    return "\n".join([HEADER, *view_lines(objects, pose, width, height)])
