"""EmbRACE-3K (arXiv 2507.10548) released episodes -> episode specs with recorded frames.

Layout read (``SRC``)::

    SRC/<task-type folder>/<episode folder>/000.jpg 001.jpg ... infos.json gemini.json

``infos.json``: ``Instruction``, ``Type`` (0 basic, 1 exploration, 2 dynamic spatial-semantic,
3 multi-stage, 4.1 open door, 4.2 pick and drop), ``Start_Pose``, ``Target_Pose`` (a list of
poses, one per goal), ``Action`` and ``Trajectory_Pose`` (one per step: the pose at which the
action was chosen), and per type ``GenAI_Target_Object``, ``Target_Door_Name``, ``PD_Pose``,
``PD_ID``. Poses are Unreal's ``[X, Y, Z, pitch, yaw, roll]`` in cm, converted by
:mod:`embodied_gym.sims.unreal_frame`. ``gemini.json``: one ``{"image_name", "action",
"thinking"}`` per step, the first-person reasoning.

:func:`import_embrace3k` writes ``OUT/episodes.jsonl`` (one :class:`~embodied_gym.episodes.spec.
Episode` per good source episode, ``backend="unrealcv"``), copies the frames byte for byte to
``OUT/frames/<type>/<episode>/`` (replayed, never re-rendered) and writes
``OUT/import_report.json``. A bad episode is reported (file, field, problem) and skipped; the
rest are imported. What a live ``unrealcv`` run needs is in the spec: ``start_pose``, one
subgoal per target pose with the success ``radius``, the door / pick-and-drop object by name.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...sims.base import EMBRACE_ACTIONS, Pose
from ...sims.unreal_frame import pose_from_unreal, unreal_roll
from ..spec import Demonstration, Episode, Subgoal, save_episodes
from .common import ImportProblem, ImportReport

FORMAT = "embrace3k"
#: EmbRACE-3K ``Type`` code -> our category
TYPE_CATEGORIES: dict[str, str] = {
    "0": "basic",
    "1": "exploration",
    "2": "spatial_semantic",
    "3": "multi_stage",
    "4.1": "open_door",
    "4.2": "pick_drop",
}
#: the task-type folders of the release -> the category they hold (a disagreement with ``Type``
#: is reported as a warning; ``Type`` decides)
FOLDER_CATEGORIES: dict[str, str] = {
    "Basic": "basic",
    "Exploration": "exploration",
    "Dynamic_Spatial-Semantic": "spatial_semantic",
    "Multi-stage": "multi_stage",
    "Interaction_Open-Door": "open_door",
    "Interaction_Pick-and-Drop": "pick_drop",
}
_FRAME = re.compile(r"^(\d+)\.jpg$")


@dataclass
class Embrace3kImportConfig:
    """Options of ``egym import embrace3k``.

    ``radius``: success radius in metres around each target pose (EmbRACE-3K's release states
    none; the default, 2 m, is about one ``MoveForward`` of its recordings). ``split``: the split
    tag of every imported episode. ``domain``: ``in_domain`` or ``ood``. ``map``: the Unreal level
    the episodes were recorded in (the release does not record it per episode), written as the
    episode's scene ``{"level": map}``; ``None`` means "the level the UnrealCV server is
    running". ``max_steps_factor``: the live step budget is
    this many times the demonstration length (at least ``min_steps``)."""

    radius: float = 2.0
    split: str = "test"
    domain: str = "in_domain"
    map: str | None = None
    max_steps_factor: float = 2.0
    min_steps: int = 10

    def __post_init__(self) -> None:
        if not self.radius > 0:
            raise ValueError(f"radius: must be > 0 metres, got {self.radius!r}")
        if self.domain not in ("in_domain", "ood"):
            raise ValueError(f"domain: expected in_domain or ood, got {self.domain!r}")


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ImportProblem(path, "(file)", "missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportProblem(path, "(file)", f"invalid JSON: {exc}") from None


def _pose(value: Any, file: Path, fld: str) -> Pose:
    """A source pose converted (rounded to 1e-6 m / degrees: the source has 1e-3 cm)."""
    try:
        pose = pose_from_unreal(value)
    except ValueError as exc:
        raise ImportProblem(file, fld, str(exc)) from None
    return Pose(*(round(v, 6) + 0.0 for v in pose.to_list()))


def type_category(value: Any, file: Path | str = "infos.json") -> str:
    """The category of an EmbRACE-3K ``Type`` code (``0``, ``1``, ``2``, ``3``, ``4.1``, ``4.2``;
    ints, floats or strings). Raises :class:`ImportProblem` on anything else."""
    key = None
    if isinstance(value, bool):
        key = None
    elif isinstance(value, int):
        key = str(value)
    elif isinstance(value, float):
        key = str(int(value)) if value.is_integer() else f"{value:g}"
    elif isinstance(value, str):
        key = value.strip()
    if key not in TYPE_CATEGORIES:
        raise ImportProblem(file, "Type", f"unknown task type {value!r}; expected one of {', '.join(TYPE_CATEGORIES)}")
    return TYPE_CATEGORIES[key]


def _frames(folder: Path) -> list[str]:
    """The frame names ``000.jpg`` ... of an episode folder, checked to be contiguous from 0."""
    found = sorted((int(m.group(1)), f.name) for f in folder.iterdir() if (m := _FRAME.match(f.name)))
    for expected, (index, name) in enumerate(found):
        if index != expected:
            raise ImportProblem(folder / f"{expected:03d}.jpg", "(file)", f"missing frame (next present: {name})")
    return [name for _, name in found]


def _subgoals(info: dict, category: str, targets: list[Pose], file: Path, radius: float) -> list[Subgoal]:
    names = [str(n) for n in info.get("GenAI_Target_Object") or []]
    reach = [Subgoal("reach_pose", pose=p, radius=radius, description=names[i] if i < len(names) else "")
             for i, p in enumerate(targets)]
    if category == "open_door":
        door = info.get("Target_Door_Name")
        if not isinstance(door, str) or not door:
            raise ImportProblem(file, "Target_Door_Name", f"an open-door task needs the door's actor name, got {door!r}")
        return [*reach, Subgoal("open", target_name=door, radius=radius, description=door)]
    if category == "pick_drop":
        pd_id = info.get("PD_ID")
        if isinstance(pd_id, bool) or not isinstance(pd_id, (int, str)) or pd_id == "":
            raise ImportProblem(file, "PD_ID", f"a pick-and-drop task needs the object's PD_ID, got {pd_id!r}")
        name = f"PD_ID:{pd_id}"
        obj_pose = _pose(info.get("PD_Pose"), file, "PD_Pose")
        return [Subgoal("pick", target_name=name, pose=obj_pose, radius=radius, description="the object to carry"),
                Subgoal("place", target_name=name, pose=targets[-1], radius=radius, description="the drop place")]
    return reach


def convert_episode(folder: Path, rel: str, config: Embrace3kImportConfig) -> tuple[Episode, list[str], list[str]]:
    """One source episode folder -> (episode with frame paths relative to the output folder,
    frame file names, warnings). Raises :class:`ImportProblem` naming the file and field."""
    infos_path, gemini_path = folder / "infos.json", folder / "gemini.json"
    info = _read_json(infos_path)
    if not isinstance(info, dict):
        raise ImportProblem(infos_path, "(top level)", f"expected an object, got {type(info).__name__}")
    thoughts = _read_json(gemini_path)
    if not isinstance(thoughts, list):
        raise ImportProblem(gemini_path, "(top level)", f"expected a list of steps, got {type(thoughts).__name__}")
    instruction = info.get("Instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise ImportProblem(infos_path, "Instruction", f"expected a non-empty string, got {instruction!r}")
    category = type_category(info.get("Type"), infos_path)
    actions = info.get("Action")
    if not isinstance(actions, list) or not actions:
        raise ImportProblem(infos_path, "Action", "expected a non-empty list of action names")
    for i, a in enumerate(actions):
        if a not in EMBRACE_ACTIONS:
            raise ImportProblem(infos_path, f"Action[{i}]", f"unknown action {a!r}; expected one of {', '.join(EMBRACE_ACTIONS)}")
    traj = info.get("Trajectory_Pose")
    if not isinstance(traj, list):
        raise ImportProblem(infos_path, "Trajectory_Pose", "expected a list of poses")
    frames = _frames(folder)
    counts = {"Action": len(actions), "Trajectory_Pose": len(traj), "frames (NNN.jpg)": len(frames),
              "gemini.json steps": len(thoughts)}
    if len(set(counts.values())) != 1:
        listing = ", ".join(f"{k}={v}" for k, v in counts.items())
        fld = next(k for k, v in counts.items() if v != len(actions))
        raise ImportProblem(folder, fld, f"step counts disagree ({listing})")
    rationales = []
    for i, step in enumerate(thoughts):
        where = f"[{i}]"
        if not isinstance(step, dict):
            raise ImportProblem(gemini_path, where, f"expected an object, got {type(step).__name__}")
        if step.get("image_name") != frames[i]:
            raise ImportProblem(gemini_path, f"{where}.image_name", f"expected {frames[i]!r}, got {step.get('image_name')!r}")
        if step.get("action") != actions[i]:
            raise ImportProblem(gemini_path, f"{where}.action", f"{step.get('action')!r} disagrees with infos.json Action[{i}] = {actions[i]!r}")
        thinking = step.get("thinking")
        if not isinstance(thinking, str):
            raise ImportProblem(gemini_path, f"{where}.thinking", f"expected a string, got {thinking!r}")
        rationales.append(thinking.strip())
    poses = [_pose(p, infos_path, f"Trajectory_Pose[{i}]") for i, p in enumerate(traj)]
    start = _pose(info.get("Start_Pose"), infos_path, "Start_Pose")
    targets_raw = info.get("Target_Pose")
    if not isinstance(targets_raw, list) or not targets_raw:
        raise ImportProblem(infos_path, "Target_Pose", "expected a non-empty list of poses")
    targets = [_pose(p, infos_path, f"Target_Pose[{i}]") for i, p in enumerate(targets_raw)]
    warnings = []
    folder_category = FOLDER_CATEGORIES.get(rel.split("/")[0])
    if folder_category is not None and folder_category != category:
        warnings.append(f"{infos_path}: field 'Type': {info.get('Type')!r} ({category}) disagrees with its folder "
                        f"{rel.split('/')[0]!r} ({folder_category}); the Type is used")
    # the last action is taken at the last recorded pose; it does not move (Finish), so the
    # final pose repeats it, else it is unknown and the last recorded pose stands in
    if actions[-1] != "Finish":
        warnings.append(f"{infos_path}: field 'Action': the episode does not end with Finish; the final pose is the last recorded one")
    ep_id = "embrace3k-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", rel.replace("/", "-"))
    frame_dir = f"frames/{rel}"
    n = len(actions)
    episode = Episode(
        id=ep_id,
        backend="unrealcv",
        scene={"level": config.map},  # the unrealcv backend's scene: None = the level the server runs
        start_pose=start,
        instruction=instruction.strip(),
        category=category,
        subgoals=_subgoals(info, category, targets, infos_path, config.radius),
        max_steps=max(config.min_steps, int(round(config.max_steps_factor * n))),
        demonstration=Demonstration(actions=list(actions), poses=[*poses, poses[-1]], rationales=rationales,
                                    frames=[f"{frame_dir}/{name}" for name in frames]),
        split=config.split,
        tags={"domain": config.domain, "scene_family": "embrace3k", "source": FORMAT},
        extra={FORMAT: {
            "source": rel,
            "type": info.get("Type"),
            "reason": info.get("Reason", ""),
            "target_objects": info.get("GenAI_Target_Object") or [],
            "target_door": info.get("Target_Door_Name"),
            "pd_id": info.get("PD_ID"),
            "start_roll": unreal_roll(info["Start_Pose"]),
            "success_radius_m": config.radius,
        }},
    )
    return episode, frames, warnings


def find_episode_folders(src: Path) -> list[tuple[Path, str]]:
    """``(folder, "Type/episode")`` for every folder under ``src`` holding an ``infos.json`` (or
    frames or ``gemini.json``), in sorted order; ``src`` may itself be one task-type folder or
    one episode folder."""
    src = Path(src)
    if not src.is_dir():
        raise FileNotFoundError(f"EmbRACE-3K source {src} is not a folder")
    marks = ("infos.json", "gemini.json")
    found = []
    for folder in [src, *sorted(p for p in src.rglob("*") if p.is_dir())]:
        if any((folder / m).exists() for m in marks) or any(_FRAME.match(f.name) for f in folder.glob("*.jpg")):
            parts = folder.relative_to(src).parts
            if len(parts) < 2:  # SRC is one task-type folder or one episode folder: keep the type in the name
                parts = (*src.parts[-(2 - len(parts)):], *parts)
            found.append((folder, "/".join(parts)))
    return found


def import_embrace3k(src: str | Path, out: str | Path, config: Embrace3kImportConfig | None = None) -> ImportReport:
    """Import every episode under ``src`` into ``out`` (see the module docstring). Returns the
    report (also written to ``out/import_report.json``). Raises ``ValueError`` when no episode
    could be imported."""
    config = config or Embrace3kImportConfig()
    src, out = Path(src), Path(out)
    report = ImportReport(FORMAT, source=str(src), out=str(out))
    episodes: list[Episode] = []
    for folder, rel in find_episode_folders(src):
        try:
            episode, frames, warnings = convert_episode(folder, rel, config)
        except ImportProblem as exc:
            report.skipped.append({"episode": rel, "file": exc.file, "field": exc.field, "error": str(exc)})
            continue
        target = out / "frames" / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in frames:
            shutil.copyfile(folder / name, target / name)
        episodes.append(episode)
        report.imported.append(episode.id)
        report.warnings += warnings
        report.steps += len(frames)
        report.by_category[episode.category] = report.by_category.get(episode.category, 0) + 1
    out.mkdir(parents=True, exist_ok=True)
    (out / "import_report.json").write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    if not episodes:
        raise ValueError(f"{src}: no EmbRACE-3K episode could be imported ({len(report.skipped)} skipped; "
                         f"see {out / 'import_report.json'})")
    save_episodes(out / "episodes.jsonl", episodes)
    return report
