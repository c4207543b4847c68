"""The episode data model: :class:`Episode`, its :class:`Subgoal` s and :class:`Demonstration`,
the vocabularies they draw on (:data:`CATEGORIES`, :data:`SUBGOAL_TYPES`, :data:`DOMAINS`) and
:class:`SpecError`. Each class writes itself as a spec dict (``to_dict``); reading and validating
one is :mod:`.parse`, files and suites :mod:`.files` (the format: :mod:`.spec`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sims.base import Pose

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
        """Validate and build an episode; errors raise :class:`SpecError` prefixed by ``where``
        (:func:`~embodied_gym.episodes.parse.parse_episode`)."""
        from .parse import parse_episode

        return parse_episode(data, where)
