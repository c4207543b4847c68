"""The episode spec: one language-guided task in one scene, versioned JSON / JSONL.

An :class:`Episode` holds everything needed to replay a task in any backend that has its scene:
the backend and scene, the start pose, the instruction, the goal as ordered :class:`Subgoal` s,
the step budget, an optional expert :class:`Demonstration` (actions, poses, object states and a
first-person rationale per step) and split tags. It holds poses and states, never pixels: frames
are rendered live by the backend.

Files are either ``.jsonl`` (one episode object per line) or ``.json`` (one episode object, a
list of them, or ``{"version": 1, "episodes": [...]}``). Every episode object carries
``"version"``; loading validates each field and raises ``ValueError`` naming the file, the
episode and the field on any error, e.g.::

    ValueError: episodes.jsonl: episode 'house-v1-test-0003' (line 4): field 'subgoals[0].radius': must be > 0, got -1

Suites live under ``assets/<suite>/<split>.jsonl`` and are addressed as ``"SUITE:SPLIT"``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sims.base import ACTIONS, EMBRACE_ACTIONS, Pose

SPEC_VERSION = 1

CATEGORIES: tuple[str, ...] = ("basic", "exploration", "spatial_semantic", "multi_stage", "open_door", "pick_drop")
"""Task categories (EmbRACE-3K's task types)."""

SUBGOAL_TYPES: tuple[str, ...] = ("reach_object", "reach_pose", "pick", "place", "open")
"""``reach_object``: be within ``radius`` (metres, geodesic) of object ``target``;
``reach_pose``: be within ``radius`` of ``pose``; ``pick``: hold object ``target``;
``place``: object ``target`` rests on receptacle ``receptacle`` (or within ``radius`` of ``pose``);
``open``: door ``target`` is open. Where the object id is not known offline (imported real data),
``target_name`` names the object in the backend's scene instead (e.g. an Unreal actor name); the
backend resolves it when the scene is loaded. Any subgoal may list ``keep_closed`` door ids: it
then holds only while every one of them is closed (``open_door`` tasks forbid opening the other
doors)."""

DOMAINS: tuple[str, ...] = ("in_domain", "ood")


class SpecError(ValueError):
    """A malformed episode; the message names the file, the episode and the field."""


@dataclass
class Subgoal:
    """One step of an episode's goal. See :data:`SUBGOAL_TYPES` for the meaning of each type."""

    type: str
    target: int | None = None
    receptacle: int | None = None
    pose: Pose | None = None
    radius: float = 1.0
    description: str = ""
    target_name: str | None = None
    keep_closed: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "radius": self.radius, "description": self.description}
        if self.keep_closed:
            d["keep_closed"] = list(self.keep_closed)
        if self.target is not None:
            d["target"] = self.target
        if self.target_name is not None:
            d["target_name"] = self.target_name
        if self.receptacle is not None:
            d["receptacle"] = self.receptacle
        if self.pose is not None:
            d["pose"] = self.pose.to_list()
        return d


@dataclass
class Demonstration:
    """An expert rollout: ``actions[i]`` taken at ``poses[i]`` with ``rationales[i]`` (first-person
    reasoning grounded in what is visible at step ``i``); ``poses`` has one more entry than
    ``actions`` (the final pose). ``object_states[i]`` optionally records the state of objects
    that differ from the scene's initial state before step ``i``:
    ``{"<id>": {"position": [x, y, z], "held": bool, "is_open": bool}}``.

    Recorded episodes (imported real data) also carry ``frames``: one image file per action, the
    frame seen when ``actions[i]`` was chosen, as paths relative to the episode file's folder.
    Such a demonstration is replayed from its frames, never executed, so its actions may use the
    whole recorded vocabulary :data:`~embodied_gym.sims.base.EMBRACE_ACTIONS`; without frames
    actions must be executable (:data:`~embodied_gym.sims.base.ACTIONS`)."""

    actions: list[str]
    poses: list[Pose]
    rationales: list[str] = field(default_factory=list)
    object_states: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "actions": list(self.actions),
            "poses": [p.to_list() for p in self.poses],
            "rationales": list(self.rationales),
        }
        if self.object_states:
            d["object_states"] = self.object_states
        if self.frames:
            d["frames"] = list(self.frames)
        return d


@dataclass
class Episode:
    """One task. ``scene`` is backend-specific: a house spec dict or ``{"seed": N}`` for
    ``house``, a scene name such as ``"FloorPlan1"`` for ``thor``, a map name for ``unrealcv``.
    ``tags`` carries split metadata: ``scene_family`` and ``domain`` (``in_domain``/``ood``).
    ``extra`` is free-form (importer provenance, BEAR decomposition hints, ...)."""

    id: str
    backend: str
    scene: Any
    start_pose: Pose
    instruction: str
    category: str
    subgoals: list[Subgoal]
    max_steps: int = 64
    demonstration: Demonstration | None = None
    split: str = "test"
    tags: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = SPEC_VERSION
    #: the folder of the file this episode was loaded from (set by :func:`load_episodes`; not
    #: written): relative ``demonstration.frames`` paths are resolved against it
    source_dir: Path | None = field(default=None, compare=False, repr=False)

    @property
    def domain(self) -> str:
        return str(self.tags.get("domain", "in_domain"))

    @property
    def recorded(self) -> bool:
        """Whether this episode replays recorded frames (imported real data)."""
        return self.demonstration is not None and bool(self.demonstration.frames)

    def frame_path(self, step: int) -> Path:
        """The recorded frame of demonstration step ``step`` (relative paths resolved against
        :attr:`source_dir`, else the working directory)."""
        if not self.recorded:
            raise ValueError(f"episode {self.id!r}: no recorded frames (demonstration.frames is empty)")
        assert self.demonstration is not None
        path = Path(self.demonstration.frames[step])
        return path if path.is_absolute() or self.source_dir is None else self.source_dir / path

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "version": self.version,
            "id": self.id,
            "backend": self.backend,
            "scene": self.scene,
            "start_pose": self.start_pose.to_list(),
            "instruction": self.instruction,
            "category": self.category,
            "subgoals": [s.to_dict() for s in self.subgoals],
            "max_steps": self.max_steps,
            "split": self.split,
            "tags": self.tags,
        }
        if self.demonstration is not None:
            d["demonstration"] = self.demonstration.to_dict()
        if self.extra:
            d["extra"] = self.extra
        return d

    def to_json(self) -> str:
        """Canonical one-line JSON (sorted keys): equal episodes give byte-identical lines."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "episode") -> Episode:
        """Validate and build an episode; errors raise :class:`SpecError` prefixed by ``where``."""
        return _parse_episode(data, where)


# ---------------------------------------------------------------------------------------------
# validation


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


def _parse_episode(data: Any, where: str) -> Episode:
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


# ---------------------------------------------------------------------------------------------
# files and suites


def assets_dir() -> Path:
    """Where official suites live: ``$EMBODIED_GYM_ASSETS`` or the repository's ``assets/``."""
    env = os.environ.get("EMBODIED_GYM_ASSETS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "assets"


def resolve_ref(ref: str | os.PathLike[str]) -> Path:
    """Turn ``"SUITE:SPLIT"`` into ``assets/SUITE/SPLIT.jsonl``; paths are returned unchanged."""
    text = os.fspath(ref)
    path = Path(text)
    if path.exists() or text.endswith((".json", ".jsonl")) or ":" not in text:
        return path
    suite, _, split = text.partition(":")
    return assets_dir() / suite / f"{split}.jsonl"


def load_episodes(ref: str | os.PathLike[str] | Sequence[Episode]) -> list[Episode]:
    """Load and validate episodes from a ``.jsonl``/``.json`` path, a folder (every ``*.jsonl`` in
    it, sorted by name: what ``egym generate --out DIR`` and ``egym import ... --out DIR`` write) or
    a ``"SUITE:SPLIT"`` ref.

    A list of :class:`Episode` is returned as is. Duplicate ids are an error."""
    if not isinstance(ref, (str, os.PathLike)):
        episodes = list(ref)
        if not all(isinstance(e, Episode) for e in episodes):
            raise SpecError("load_episodes: expected a path, 'SUITE:SPLIT' or a list of Episode")
        return episodes
    path = resolve_ref(ref)
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise FileNotFoundError(f"episode folder {path} holds no *.jsonl episode file")
        loaded = [ep for f in files for ep in load_episodes(f)]
        ids: set[str] = set()
        for ep in loaded:
            if ep.id in ids:
                raise SpecError(f"{path}: episode {ep.id!r}: field 'id': duplicate id across the folder's files")
            ids.add(ep.id)
        return loaded
    if not path.exists():
        hint = ""
        if path.is_relative_to(assets_dir()):  # a SUITE:SPLIT ref: say which ones exist
            shipped = sorted(f"{f.parent.name}:{f.stem}" for f in assets_dir().glob("*/*.jsonl"))
            hint = f"; shipped: {', '.join(shipped) or 'none'}"
        raise FileNotFoundError(f"episode file {path} not found (from {os.fspath(ref)!r}){hint}")
    name = path.name
    episodes: list[Episode] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not a UTF-8 text file of episodes (byte {exc.start}: {exc.reason})") from None
    if path.suffix == ".jsonl":
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SpecError(f"{name}: line {lineno}: invalid JSON: {exc.msg}") from None
            episodes.append(_parse_episode(data, f"{name}: episode #{len(episodes)} (line {lineno})"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if isinstance(data, dict) and "episodes" in data:
            if data.get("version", SPEC_VERSION) != SPEC_VERSION:
                raise SpecError(f"{name}: field 'version': unsupported spec version {data.get('version')!r}")
            data = data["episodes"]
        items = data if isinstance(data, list) else [data]
        episodes = [_parse_episode(d, f"{name}: episode #{i}") for i, d in enumerate(items)]
    seen: set[str] = set()
    for ep in episodes:
        ep.source_dir = path.parent
        if ep.id in seen:
            raise SpecError(f"{name}: episode {ep.id!r}: field 'id': duplicate id")
        seen.add(ep.id)
    return episodes


def save_episodes(path: str | os.PathLike[str], episodes: Iterable[Episode]) -> Path:
    """Write episodes as canonical JSONL (one sorted-key line each, trailing newline)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [ep.to_json() for ep in episodes]
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return out
