"""BEAR's 14 atomic skills (arXiv 2510.08759, Table 1): our skill ids, the paper's categories and
codes, the answer kind and metric of each, and the file each ships in (BEAR-data-format.md §1).

One table, :data:`BEAR_SKILLS`, in the paper's column order. Everything that names a BEAR skill
(the importer, ``BearSkill-v0``, the summary's per-skill table, the prompt profiles) reads it.
``trajectory_reasoning`` (the gripper-arrow questions of ``bear-lh-v1`` and ``bear-lh-v2``) is an alias of
``trajectory_gripper``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BearSkill:
    """One skill: ``id`` (ours), ``category`` and ``code`` (the paper's, e.g. ``Pointing`` /
    ``GEN``), ``kind`` (``point``, ``box`` or ``choice``), ``media`` (``image``, ``video`` or
    ``video+image``: what BEAR's released record holds) and ``file`` (the released annotation file,
    relative to the benchmark root)."""

    id: str
    category: str
    code: str
    kind: str
    media: str
    file: str

    @property
    def label(self) -> str:
        """``"Pointing/GEN"``: the paper's category and code (Table 1's column)."""
        return f"{self.category}/{self.code}"

    @property
    def metric(self) -> str:
        return "mean IoU" if self.kind == "box" else "success rate"


BEAR_SKILLS: tuple[BearSkill, ...] = (
    BearSkill("pointing_general", "Pointing", "GEN", "point", "image", "pointing/general_object_pointing_official.json"),
    BearSkill("pointing_spatial", "Pointing", "SPA", "point", "image", "pointing/spatial_relationship_pointing_official.json"),
    BearSkill("pointing_part", "Pointing", "PRT", "point", "image", "pointing/semantic_part_pointing_official.json"),
    BearSkill("bbox_general", "BBox", "GEN", "box", "image", "bbox/general_object_bbox_official.json"),
    BearSkill("bbox_spatial", "BBox", "SPA", "box", "image", "bbox/spatial_relationship_bbox_official.json"),
    BearSkill("bbox_part", "BBox", "PRT", "box", "image", "bbox/semantic_part_bbox_official.json"),
    BearSkill("trajectory_gripper", "Trajectory", "GPR", "choice", "image", "trajectory/gripper_trajectory_official.json"),
    BearSkill("trajectory_hand", "Trajectory", "HND", "choice", "image", "trajectory/human_hand_trajectory_official.json"),
    BearSkill("trajectory_object", "Trajectory", "OBJ", "choice", "image", "trajectory/object_trajectory_official.json"),
    BearSkill("object_localization", "Spatial", "LOC", "choice", "video",
              "spatial_reasoning/object_localization_official.json"),
    BearSkill("path_planning", "Spatial", "PTH", "choice", "video+image", "spatial_reasoning/path_planning_official.json"),
    BearSkill("relative_direction", "Spatial", "DIR", "choice", "video+image",
              "spatial_reasoning/relative_direction_official.json"),
    BearSkill("task_process_reasoning", "Planning", "PRG", "choice", "video",
              "task_planning/task_progress_reasoning_official.json"),
    BearSkill("next_action_prediction", "Planning", "PRD", "choice", "video",
              "task_planning/next_action_prediction_official.json"),
)

#: other ids in use for the same skills
SKILL_ALIASES: dict[str, str] = {"trajectory_reasoning": "trajectory_gripper"}

_BY_ID: dict[str, BearSkill] = {s.id: s for s in BEAR_SKILLS}
_BY_FILE_NAME: dict[str, BearSkill] = {s.file.rsplit("/", 1)[1]: s for s in BEAR_SKILLS}


def bear_skill(skill: str) -> BearSkill | None:
    """The skill with id (or alias) ``skill``, or ``None``."""
    return _BY_ID.get(SKILL_ALIASES.get(skill, skill))


def skill_for_file(name: str) -> BearSkill | None:
    """The skill a released annotation file holds, from its file name (``*_official.json``)."""
    return _BY_FILE_NAME.get(name.rsplit("/", 1)[-1])


def skill_label(skill: str) -> str:
    """The paper's ``Category/CODE`` for a skill id; unknown ids are returned unchanged."""
    found = bear_skill(skill)
    return found.label if found else skill


def label_order(label: str) -> int:
    """Sort key putting paper labels in Table 1's column order (unknown labels last)."""
    for i, s in enumerate(BEAR_SKILLS):
        if s.label == label:
            return i
    return len(BEAR_SKILLS)


def bear_table(steps_by_skill: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The per-skill table in BEAR's terms (Table 1): step records (``{"correct", "score"}``)
    grouped by skill id -> rows keyed ``"Category/CODE"`` in Table 1's column order (aliases
    merged; unknown ids keep their own key, last). Each row: ``n``, ``metric`` (``success rate``
    or ``mean IoU``), ``score`` (as Table 1 prints it: the success rate in percent, the mean IoU
    in ``[0, 1]``), ``accuracy`` (share correct; boxes: IoU >= 0.5) and ``skill`` (our id)."""
    rows: dict[str, dict[str, Any]] = {}
    merged: dict[str, list[Mapping[str, Any]]] = {}
    ids: dict[str, str] = {}
    for skill_id, steps in steps_by_skill.items():
        found = bear_skill(skill_id)
        label = found.label if found else skill_id
        merged.setdefault(label, []).extend(s for s in steps if isinstance(s, Mapping))
        ids[label] = found.id if found else skill_id
    for label in sorted(merged, key=label_order):
        steps = merged[label]
        n = len(steps)
        acc = sum(1.0 for s in steps if s.get("correct")) / n if n else 0.0
        mean = sum(float(s.get("score", 0.0) or 0.0) for s in steps) / n if n else 0.0
        found = bear_skill(ids[label])
        is_box = found is not None and found.kind == "box"
        rows[label] = {"n": n, "metric": found.metric if found else "success rate",
                       "score": round(mean, 4) if is_box else round(100.0 * acc, 2), "accuracy": acc, "skill": ids[label]}
    return rows
