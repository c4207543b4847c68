"""Validation of episode spec objects (parsed JSON) into :class:`~.episode.Episode` s.

:func:`parse_episode` checks every field and raises :class:`~.episode.SpecError` naming where the
object came from (file, line), the episode id and the field, e.g.
``episodes.jsonl: episode 'house-v1-test-0003' (line 4): field 'subgoals[0].radius': must be > 0, got -1``.
"""

from __future__ import annotations

import math
from typing import Any

from ..sims.base import ACTIONS, EMBRACE_ACTIONS, Pose
from .episode import (
    CATEGORIES,
    DOMAINS,
    SPEC_VERSION,
    SUBGOAL_TYPES,
    Demonstration,
    Episode,
    SpecError,
    Subgoal,
)


def _fail(where: str, fld: str, problem: str) -> SpecError:
    return SpecError(f"{where}: field '{fld}': {problem}")


def _get(data: dict, key: str, where: str, prefix: str = "", *, required: bool = True, default: Any = None) -> Any:
    if key not in data:
        if required:
            raise _fail(where, prefix + key, "missing")
        return default
    return data[key]


def _number(value: Any, where: str, fld: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, fld, f"expected a finite number, got {value!r}")
    return float(value)


def _pose(value: Any, where: str, fld: str) -> Pose:
    if not isinstance(value, (list, tuple)) or len(value) not in (3, 4, 5):
        raise _fail(where, fld, f"expected [x, y, z, yaw, pitch], got {value!r}")
    return Pose(*(_number(v, where, f"{fld}[{i}]") for i, v in enumerate(value)))


def _optional_int(value: Any, where: str, fld: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, fld, f"expected an integer object id, got {value!r}")
    return value


def _parse_subgoal(data: Any, where: str, fld: str) -> Subgoal:
    if not isinstance(data, dict):
        raise _fail(where, fld, f"expected an object, got {type(data).__name__}")
    kind = _get(data, "type", where, fld + ".")
    if kind not in SUBGOAL_TYPES:
        raise _fail(where, fld + ".type", f"unknown subgoal type {kind!r}; expected one of {', '.join(SUBGOAL_TYPES)}")
    target = _optional_int(data.get("target"), where, fld + ".target")
    receptacle = _optional_int(data.get("receptacle"), where, fld + ".receptacle")
    pose = _pose(data["pose"], where, fld + ".pose") if data.get("pose") is not None else None
    radius = _number(data.get("radius", 1.0), where, fld + ".radius")
    if radius <= 0:
        raise _fail(where, fld + ".radius", f"must be > 0, got {radius!r}")
    target_name = data.get("target_name")
    if target_name is not None and (not isinstance(target_name, str) or not target_name):
        raise _fail(where, fld + ".target_name", f"expected a non-empty object name, got {target_name!r}")
    named = target is not None or target_name is not None
    if kind in ("reach_object", "pick", "open") and not named:
        raise _fail(where, fld + ".target", f"a '{kind}' subgoal needs a target object id (or a target_name)")
    if kind == "reach_pose" and pose is None:
        raise _fail(where, fld + ".pose", "a 'reach_pose' subgoal needs a pose")
    if kind == "place" and (not named or (receptacle is None and pose is None)):
        raise _fail(where, fld, "a 'place' subgoal needs a target (id or target_name) and a receptacle or a pose")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _fail(where, fld + ".description", f"expected a string, got {description!r}")
    keep = data.get("keep_closed", [])
    if not isinstance(keep, list):
        raise _fail(where, fld + ".keep_closed", f"expected a list of door ids, got {keep!r}")
    keep_closed = [_optional_int(k, where, f"{fld}.keep_closed[{i}]") for i, k in enumerate(keep)]
    if None in keep_closed or (target is not None and target in keep_closed):
        raise _fail(where, fld + ".keep_closed", f"expected door ids other than the target, got {keep!r}")
    return Subgoal(kind, target, receptacle, pose, radius, description, target_name, keep_closed)  # type: ignore[arg-type]


def _parse_demo(data: Any, where: str) -> Demonstration:
    if not isinstance(data, dict):
        raise _fail(where, "demonstration", f"expected an object, got {type(data).__name__}")
    actions = _get(data, "actions", where, "demonstration.")
    if not isinstance(actions, list):
        raise _fail(where, "demonstration.actions", "expected a list of action names")
    frames = data.get("frames", [])
    if not isinstance(frames, list) or any(not isinstance(f, str) or not f for f in frames):
        raise _fail(where, "demonstration.frames", "expected a list of image paths")
    if frames and len(frames) != len(actions):
        raise _fail(where, "demonstration.frames", f"expected {len(actions)} frames (one per action), got {len(frames)}")
    vocabulary = EMBRACE_ACTIONS if frames else ACTIONS  # recorded episodes are replayed, never executed
    for i, a in enumerate(actions):
        if a not in vocabulary:
            raise _fail(where, f"demonstration.actions[{i}]", f"unknown action {a!r}; expected one of {', '.join(vocabulary)}")
    poses_raw = _get(data, "poses", where, "demonstration.")
    if not isinstance(poses_raw, list):
        raise _fail(where, "demonstration.poses", "expected a list of poses")
    poses = [_pose(p, where, f"demonstration.poses[{i}]") for i, p in enumerate(poses_raw)]
    if len(poses) != len(actions) + 1:
        raise _fail(where, "demonstration.poses", f"expected {len(actions) + 1} poses (one per action plus the final one), got {len(poses)}")
    rationales = data.get("rationales", [])
    if not isinstance(rationales, list) or any(not isinstance(r, str) for r in rationales):
        raise _fail(where, "demonstration.rationales", "expected a list of strings")
    if rationales and len(rationales) != len(actions):
        raise _fail(where, "demonstration.rationales", f"expected {len(actions)} rationales (one per action), got {len(rationales)}")
    states = data.get("object_states", [])
    if not isinstance(states, list) or any(not isinstance(s, dict) for s in states):
        raise _fail(where, "demonstration.object_states", "expected a list of objects")
    if states and len(states) not in (len(actions), len(actions) + 1):
        raise _fail(where, "demonstration.object_states", f"expected {len(actions)} or {len(actions) + 1} entries, got {len(states)}")
    return Demonstration(list(actions), poses, list(rationales), list(states), list(frames))


def parse_episode(data: Any, where: str) -> Episode:
    """Validate an episode object (a parsed JSON dict) and build the :class:`Episode`; any error
    raises :class:`SpecError` naming ``where``, the episode id and the field."""
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected an episode object, got {type(data).__name__}")
    ep_id = data.get("id")
    if isinstance(ep_id, str) and ep_id:
        where = f"{where} {ep_id!r}"
    else:
        raise _fail(where, "id", f"expected a non-empty string, got {ep_id!r}")
    version = data.get("version", SPEC_VERSION)
    if version != SPEC_VERSION:
        raise _fail(where, "version", f"unsupported spec version {version!r}; this embodied-gym reads version {SPEC_VERSION}")
    backend = _get(data, "backend", where)
    if not isinstance(backend, str) or not backend:
        raise _fail(where, "backend", f"expected a backend name, got {backend!r}")
    if "scene" not in data or data["scene"] is None:
        raise _fail(where, "scene", "missing")
    instruction = _get(data, "instruction", where)
    if not isinstance(instruction, str) or not instruction.strip():
        raise _fail(where, "instruction", f"expected a non-empty string, got {instruction!r}")
    category = _get(data, "category", where)
    if category not in CATEGORIES:
        raise _fail(where, "category", f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    subgoals_raw = _get(data, "subgoals", where)
    if not isinstance(subgoals_raw, list) or not subgoals_raw:
        raise _fail(where, "subgoals", "expected a non-empty list")
    subgoals = [_parse_subgoal(s, where, f"subgoals[{i}]") for i, s in enumerate(subgoals_raw)]
    max_steps = data.get("max_steps", 64)
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps <= 0:
        raise _fail(where, "max_steps", f"expected a positive integer, got {max_steps!r}")
    demo = _parse_demo(data["demonstration"], where) if data.get("demonstration") is not None else None
    split = data.get("split", "test")
    if not isinstance(split, str) or not split:
        raise _fail(where, "split", f"expected a split name, got {split!r}")
    tags = data.get("tags", {})
    if not isinstance(tags, dict):
        raise _fail(where, "tags", f"expected an object, got {tags!r}")
    if "domain" in tags and tags["domain"] not in DOMAINS:
        raise _fail(where, "tags.domain", f"expected one of {', '.join(DOMAINS)}, got {tags['domain']!r}")
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise _fail(where, "extra", f"expected an object, got {extra!r}")
    return Episode(
        id=ep_id,
        backend=backend,
        scene=data["scene"],
        start_pose=_pose(_get(data, "start_pose", where), where, "start_pose"),
        instruction=instruction,
        category=category,
        subgoals=subgoals,
        max_steps=max_steps,
        demonstration=demo,
        split=split,
        tags=dict(tags),
        extra=dict(extra),
        version=version,
    )
