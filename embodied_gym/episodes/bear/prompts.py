"""BEAR's answer-format instructions (paper Appendix I) and the text an agent is shown.

* multiple choice ends with "Please directly output the correct option.";
* pointing asks for ``(x, y)`` normalised to the range [0, 1];
* bounding boxes ask for ``(x1, y1, x2, y2)`` normalised to the range [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...rewards.bear import answer_kind

MC_SUFFIX = "Please directly output the correct option."
POINT_SUFFIX = (
    "Please output the point as (x, y), where x and y are the horizontal and vertical coordinates of the point "
    "normalized to the range [0, 1] relative to the image width and height. Output only the coordinates."
)
BOX_SUFFIX = (
    "Please output the bounding box as (x1, y1, x2, y2), where (x1, y1) is the top-left corner and (x2, y2) the "
    "bottom-right corner, normalized to the range [0, 1] relative to the image width and height. Output only the "
    "coordinates."
)


def format_suffix(skill: str) -> str:
    kind = answer_kind(skill)
    return POINT_SUFFIX if kind == "point" else BOX_SUFFIX if kind == "box" else MC_SUFFIX


def question_text(query: Mapping[str, Any]) -> str:
    """The question shown to the agent: the query's question and BEAR's format instruction.
    (Options are shown separately, one per line: ``"A. ..."``.)"""
    return f"{query.get('question', '').strip()} {format_suffix(str(query.get('skill', '')))}".strip()


def option_lines(query: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """``("A. ...", "B. ...", "C. ...", "D. ...")`` for multiple choice, four empty strings else."""
    options = query.get("options") or {}
    if not options:
        return ("", "", "", "")
    return tuple(f"{k}. {options.get(k, '')}" for k in ("A", "B", "C", "D"))  # type: ignore[return-value]
