"""First-person rationales for the oracle's actions, in EmbRACE-3K's style.

Each rationale is grounded in the observation the action is taken from: which objects are
visible (from the frame's segmentation-backed ``visible``/``bbox``) and where (left / centre /
right third of the frame), which subgoal remains and why this action. Phrasing varies with a
random generator seeded by the episode id and step, so the same state always gives the same text.
Example::

    My task is to go to the red key in the kitchen. I don't see the red key yet. I see a brown
    door on my right and a table in the centre of my view. The way to the kitchen leads through
    the door on my right, so I will turn right.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..sims.base import ObjectInfo, Observation, Simulator
from ..sims.geometry import relative_bearing, room_at
from ..sims.naming import noun, room_phrase
from .generators.common import plural
from .planner import Plan
from .spec import Episode

_SIDE = {"left": "on my left", "centre": "in the centre of my view", "right": "on my right"}


@dataclass
class Decision:
    """What the oracle decided: ``action``, a ``reason`` code (``finish``, ``level``, ``path``,
    ``face``, ``pick``, ``drop``, ``drop_wrong``, ``open``, ``clear``), the active subgoal index,
    the object it works toward (``focus``) and the plan it follows (if any)."""

    action: str
    reason: str
    subgoal: int
    focus: int | None = None
    plan: Plan | None = None
    mode: str = ""
    extra: dict = field(default_factory=dict)


def side_of(obj: ObjectInfo, width: int) -> str:
    """``left``/``centre``/``right``: which third of the frame holds the centre of ``obj``'s box."""
    assert obj.bbox is not None
    cx = (obj.bbox[0] + obj.bbox[2]) / 2.0
    return "left" if cx < width / 3 else ("right" if cx > 2 * width / 3 else "centre")


def _lower_first(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[0].lower() + text[1:] if text else text


def _distance_words(d: float) -> str:
    if d < 1.2:
        return "right next to me"
    if d < 2.5:
        return "close to me"
    return f"about {round(d)} metres away"


def _room_kind(sim: Simulator, x: float, z: float) -> str | None:
    room = room_at(sim.rooms(), x, z)
    return None if room is None else room_phrase(room)


_IMPERATIVE = {"go", "walk", "approach", "navigate", "move", "head", "get", "search", "find", "look", "explore",
               "locate", "first", "first,", "visit", "open", "pick", "take", "grab", "bring", "counting", "among", "of"}


def task_sentence(instruction: str) -> str:
    """``My task is to go to ...`` for imperative instructions, else the instruction quoted."""
    first = instruction.split()[0].lower() if instruction.split() else ""
    if first in ("first", "first,"):
        rest = instruction.split(None, 1)[1] if len(instruction.split()) > 1 else instruction
        return f"My task, in order: first {_lower_first(rest)}."
    if first in _IMPERATIVE and first not in ("counting", "among", "of"):
        return f"My task is to {_lower_first(instruction)}."
    return f"My instruction: \"{instruction.strip()}\""


def _visible(obs: Observation, min_px: int) -> list[ObjectInfo]:
    objs = [o for o in obs.objects.values() if o.visible and o.bbox is not None and o.pixel_count >= min_px]
    return sorted(objs, key=lambda o: (-o.pixel_count, o.id))


def _subgoal_phrase(episode: Episode, index: int) -> str:
    sg = episode.subgoals[index]
    return sg.description or sg.type.replace("_", " ")


def explain(sim: Simulator, episode: Episode, obs: Observation, d: Decision) -> str:
    """The first-person rationale for decision ``d`` taken from observation ``obs``."""
    rng = random.Random(f"{episode.id}:{obs.step}:{d.action}")
    min_px = max(8, (sim.width * sim.height) // 1000)
    parts: list[str] = []
    n = len(episode.subgoals)
    # 1. the task and what remains
    if obs.step == 0 or rng.random() < 0.1:
        parts.append(task_sentence(episode.instruction))
    if n > 1 and d.action != "Finish":
        goal = _subgoal_phrase(episode, d.subgoal)
        if d.subgoal == 0:
            parts.append(rng.choice(["First I need to {g}.", "My first goal is to {g}."]).format(g=goal))
        else:
            done = _subgoal_phrase(episode, d.subgoal - 1)
            midway = episode.category == "multi_stage"
            if obs.step > 0 and d.extra.get("just_met"):
                parts.append(
                    (f"I have reached my midway target: I managed to {done}. " if midway else f"I managed to {done}. ")
                    + f"Now I need to {goal}."
                )
            else:
                parts.append(
                    rng.choice(["I have already managed to {p}; now I need to {g}.", "Having done the step to {p}, I must now {g}."])
                    .format(p=done, g=goal)
                )
    # 2. what I see
    seen = _visible(obs, min_px)
    focus = obs.objects.get(d.focus) if d.focus is not None else None
    focus_name = noun(focus) if focus is not None else "the target"
    focus_seen = focus is not None and focus.visible and focus.bbox is not None
    if obs.held_object is not None and obs.held_object in obs.objects:
        parts.append(f"I am holding the {noun(obs.objects[obs.held_object])}.")
    if focus_seen:
        assert focus is not None
        parts.append(
            rng.choice(["I see the {t} {s}, {d}.", "The {t} is {s}, {d}.", "I can see the {t} {s}; it is {d}."])
            .format(t=focus_name, s=_SIDE[side_of(focus, sim.width)], d=_distance_words(focus.distance))
        )
    elif focus is not None and d.action != "Finish":
        parts.append(rng.choice(["I don't see the {t} in my current view.", "The {t} is not in view right now."]).format(t=focus_name))
    if focus_seen and focus is not None and episode.category == "spatial_semantic" and (obs.step == 0 or rng.random() < 0.3):
        parts.append(_referent(sim, episode, obs, focus))
    others = [o for o in seen if focus is None or o.id != focus.id][: 1 if focus_seen else 2]
    if others:
        bits = [f"a {noun(o)} {_SIDE[side_of(o, sim.width)]}" for o in others]
        lead = "I also see " if focus_seen else "I see "
        parts.append(lead + " and ".join(bits) + ".")
    elif not focus_seen:
        parts.append("I only see walls and floor around me.")
    # 3. why this action
    parts.append(_why(sim, obs, d, focus, focus_name, focus_seen, rng))
    return " ".join(parts)


def _referent(sim: Simulator, episode: Episode, obs: Observation, focus: ObjectInfo) -> str:
    """Why the visible ``focus`` is the object a spatial-semantic instruction means."""
    ex, cat = episode.extra, focus.category.replace("_", " ")
    place = _SIDE[side_of(focus, sim.width)]
    rel = ex.get("relation")
    if rel == "ordinal":
        same = sum(1 for o in obs.objects.values() if o.category == focus.category and o.visible)
        count = f"I can see {same} {plural(cat)}; c" if same > 1 else "C"
        ordinal = ("first", "second", "third", "fourth")[int(ex.get("ordinal", 1)) - 1]
        return f"{count}ounting from the {ex.get('side')}, the {ordinal} one is the {cat} {place}."
    anchor = obs.objects.get(ex.get("anchor")) if ex.get("anchor") is not None else None
    if rel == "relative" and anchor is not None:
        return f"The {cat} to the {ex.get('side')} of the {noun(anchor)} is the one {place}."
    if rel == "support" and anchor is not None:
        return f"The {cat} {place} is the one resting on the {noun(anchor)}."
    if rel in ("nearest", "farthest"):
        return f"Of all the {plural(cat)}, this one {place} is the {rel} from where I started."
    if rel == "room":
        kind = next((r.kind.replace("_", " ") for r in sim.rooms() if r.id == ex.get("room")), "room")
        return f"This {cat} {place} is the one in the {kind}."
    return f"The {cat} I am looking for is {place}."


def _next_room(sim: Simulator, obs: Observation, plan: Plan | None) -> str | None:
    """The kind of the next room the plan enters, if it leaves the current room soon."""
    if plan is None:
        return None
    here = _room_kind(sim, obs.agent.x, obs.agent.z)
    for p in plan.poses[1:12]:
        there = _room_kind(sim, p.x, p.z)
        if there is not None and there != here:
            return there
    return None


def _why(sim, obs: Observation, d: Decision, focus, focus_name: str, focus_seen: bool, rng: random.Random) -> str:
    a = d.action
    turn = "left" if a == "TurnLeft" else "right"
    if a == "Finish":
        where = f", {_SIDE[side_of(focus, sim.width)]}" if focus_seen and focus is not None else ""
        if focus is not None and focus.kind == "door":
            return f"The {focus_name} is now open{where}. The task is complete, so I will finish."
        if d.extra.get("placed_on") is not None and d.extra["placed_on"] in obs.objects:
            holder = noun(obs.objects[d.extra["placed_on"]])
            return f"The {focus_name} now rests on the {holder}. The task is complete, so I will finish."
        return rng.choice([
            "I have reached the {t}{w}. The task is complete, so I will finish.",
            "I am now right at the {t}{w}; everything I was asked to do is done, so I will finish.",
        ]).format(t=focus_name, w=where)
    if d.reason == "level":
        return f"My view is tilted {'down' if obs.agent.pitch < 0 else 'up'}; I will look {'up' if obs.agent.pitch < 0 else 'down'} to see straight ahead."
    if d.reason == "confirm":
        return f"I should be right at the {focus_name} now, but it is below my view; I will look down to confirm."
    if d.reason == "look":
        where = "below" if a == "LookDown" else "above"
        return f"The {focus_name} should be within reach but {where} my view, so I will {a[:4].lower()} {a[4:].lower()} to see it."
    if a == "PickObject":
        return f"The {focus_name} is right in front of me and within reach, so I will pick it up."
    if a == "DropObject" and d.reason == "drop_wrong":
        return f"I am holding the {focus_name}, which my task does not need, so I will put it down first."
    if a == "DropObject":
        return f"The {focus_name} is right in front of me and within reach, so I will drop what I am holding onto it."
    if a == "OpenDoor":
        return f"The {focus_name} is right in front of me and closed, so I will open it."
    room = _next_room(sim, obs, d.plan)
    if a in ("TurnLeft", "TurnRight"):
        if d.reason == "face" and focus_seen:
            return rng.choice(["To face the {t} directly, I will turn {s}.", "I will turn {s} to bring the {t} to the centre of my view."]).format(t=focus_name, s=turn)
        if d.reason == "face":
            return f"The {focus_name} should be just to my {turn}, so I will turn {turn} to face it."
        if focus_seen and focus is not None:
            rel = relative_bearing(obs.agent, focus.position)
            if (rel > 0) == (a == "TurnLeft"):
                return f"To head toward the {focus_name}, I will turn {turn}."
            return f"Something blocks the direct way to the {focus_name}, so I will turn {turn} to go around it."
        if room:
            return rng.choice(["The way to the {t} leads into the {r}, so I will turn {s} toward it.", "I will turn {s} to head for the {r}, where I expect to find the {t}."]).format(t=focus_name, r=room, s=turn)
        return rng.choice(["To search for the {t}, I will turn {s} and scan the area.", "I will turn {s} to look for the {t}."]).format(t=focus_name, s=turn)
    if a == "MoveForward":
        if focus_seen and focus is not None and side_of(focus, sim.width) == "centre":
            return rng.choice(["It is straight ahead, so I will move forward to get closer.", "I will move forward to approach the {t}."]).format(t=focus_name)
        if focus_seen:
            return f"My path toward the {focus_name} leads straight ahead for now, so I will move forward."
        if room:
            return rng.choice(["The way ahead leads into the {r}, so I will move forward.", "I will move forward toward the {r} to keep looking for the {t}."]).format(r=room, t=focus_name)
        return rng.choice(["The way ahead is clear, so I will move forward to explore.", "I will move forward to search further for the {t}."]).format(t=focus_name)
    if a in ("LookUp", "LookDown"):
        return f"I will {a[:4].lower()} {a[4:].lower()} to get a better view."
    return f"I will {a}."
