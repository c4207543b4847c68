"""BEAR answers: the answer kinds of the skills, and reading a reply (an option letter, a point,
a box). Total: no input makes these functions raise; an unreadable reply gives ``None``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..bear_skills import bear_skill

LETTERS: tuple[str, ...] = ("A", "B", "C", "D")
NONE_OF_THE_ABOVE = "None of the above"
BOX_IOU_THRESHOLD = 0.5
"""A bounding-box step counts as correct when its IoU with the ground truth is at least this."""

MC_SKILLS: tuple[str, ...] = (
    "next_action_prediction",
    "task_process_reasoning",
    "object_localization",
    "path_planning",
    "relative_direction",
    "trajectory_reasoning",
)
POINT_SKILLS: tuple[str, ...] = ("pointing_general", "pointing_spatial")
BOX_SKILLS: tuple[str, ...] = ("bbox_general", "bbox_spatial")
SKILLS: tuple[str, ...] = MC_SKILLS + POINT_SKILLS + BOX_SKILLS

_MAX_TEXT = 20000  # replies are truncated to their last characters before parsing

Judge = Callable[[str, Mapping[str, str]], "str | None"]
"""A fallback multiple-choice reader: ``judge(reply, {letter: option text}) -> letter | None``
(e.g. :class:`embodied_gym.agents.judge.LLMJudge`)."""


def answer_kind(skill: str) -> str:
    """``"choice"``, ``"point"`` or ``"box"`` for a skill id of BEAR's 14 skills
    (:data:`~embodied_gym.rewards.bear_skills.BEAR_SKILLS`; unknown skills: ``"choice"``)."""
    found = bear_skill(skill)
    return found.kind if found is not None else "choice"


def _as_text(reply: Any) -> str:
    try:
        text = reply if isinstance(reply, str) else ("" if reply is None else str(reply))
    except Exception:
        return ""
    return text[-_MAX_TEXT:]


# ---------------------------------------------------------------------------------------------
# multiple choice

_EXPLICIT = [
    # the box's rest is bounded ({0,256}): an unbounded [^}]* rescans the reply from each
    # unclosed \boxed{ (quadratic)
    re.compile(r"\\boxed\{\s*\(?([A-Z])\)?(?![A-Za-z])[^}]{0,256}\}"),
    re.compile(r"(?i:<answer>)\s*\(?([A-Z])\)?(?![A-Za-z])[^<]*(?i:</answer>)"),
    re.compile(r"(?i:answer)\s*(?i:is|:)?\s*(?i:option\s*)?[:\s]*\(?\**\s*([A-Z])\s*\**\)?(?![A-Za-z])"),
    re.compile(r"(?i:correct|right|best)\s+(?i:option|choice)\s*(?i:is|:)?\s*\(?\**([A-Z])\**\)?(?![A-Za-z])"),
    re.compile(r"\*\*\s*\(?([A-Z])\)?\s*\*\*"),
]
_STRIP_CHARS = ".()[],:;!*#{}\"'`<>"
_TRANSLATE = str.maketrans({c: " " for c in _STRIP_CHARS})


def words_of(text: str) -> list[str]:
    """The reply's words with brackets and punctuation removed (how option letters are found)."""
    return [t for t in text.translate(_TRANSLATE).split() if t]


def _explicit_letter(text: str, letters: Sequence[str]) -> str | None:
    for pattern in _EXPLICIT:
        found = [m.group(1).upper() for m in pattern.finditer(text)]
        found = [f for f in found if f in letters]
        if found:
            return found[-1]
    return None


def _standalone_letter(tokens: list[str], letters: Sequence[str]) -> str | None:
    """VLMEvalKit's ``can_infer_option``: exactly one distinct option letter among the tokens;
    an "A" inside a longer sentence may be the article and makes the reply ambiguous."""
    present = [c for c in letters if c in tokens]
    if len(present) != 1:
        return None
    if "A" in tokens and len(tokens) > 3:
        return None
    return present[0]


def _letter_near_end(tokens: list[str], letters: Sequence[str], window: int = 4) -> str | None:
    """A single distinct option letter among the last ``window`` tokens."""
    tail = tokens[-window:]
    present = [c for c in letters if c in tail]
    if len(present) != 1:
        return None
    if present[0] == "A" and tail[-1] != "A":
        return None  # "... is a desk" style article
    return present[0]


def _option_text_match(text: str, options: Mapping[str, str]) -> str | None:
    """The unique option whose text appears in the reply (an option contained in a longer
    matching option is ignored in favour of the longer one)."""
    low = " ".join(text.lower().split())
    hits = []
    for letter, value in options.items():
        v = " ".join(str(value).lower().split())
        if v and v in low:
            hits.append((letter, v))
    if not hits:
        return None
    hits = [(ltr, v) for ltr, v in hits if not any(v != w and v in w for _, w in hits)]
    return hits[0][0] if len(hits) == 1 else None


def extract_choice(
    reply: Any,
    options: Mapping[str, str] | Sequence[str],
    *,
    judge: Callable[[str, Mapping[str, str]], str | None] | None = None,
) -> str | None:
    """Read the option letter a reply chooses, or ``None``.

    ``options`` maps letters to option texts (or is a list, lettered ``A``, ``B``, ...). The
    order of attempts is documented in the module docstring. ``judge`` (e.g. :class:`~embodied_gym.agents.judge.LLMJudge`)
    is asked only when the rules find nothing; its exceptions are swallowed."""
    try:
        if not isinstance(options, Mapping):
            options = {LETTERS[i] if i < 4 else chr(65 + i): str(o) for i, o in enumerate(list(options)[:26])}
        letters = [str(k) for k in options]
        text = _as_text(reply).strip()
        if not text:
            return None
        letter = _explicit_letter(text, letters)
        if letter is None:
            words = words_of(text)
            letter = _standalone_letter(words, letters) or _letter_near_end(words, letters)
        if letter is None:
            letter = _option_text_match(text, {str(k): str(v) for k, v in options.items()})
        if letter is None and judge is not None:
            try:
                got = judge(text, {str(k): str(v) for k, v in options.items()})
            except Exception:
                got = None
            letter = got if isinstance(got, str) and got in letters else None
        return letter
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# points and boxes

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# a separator is a comma or semicolon with optional spaces, or spaces alone; written without
# two adjacent ``\s*`` around ``[,;\s]`` (the same language), which backtracks quadratically
# over a long run of spaces
_SEP = r"(?:\s*[,;]\s*|\s+)"
_POINT_RE = re.compile(rf"[\(\[]\s*({_NUM}){_SEP}({_NUM})\s*[\)\]]")
_BOX_RE = re.compile(rf"[\(\[]\s*({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})\s*[\)\]]")
_ANY_NUM = re.compile(_NUM)


def normalize_coords(values: Sequence[float], width: int | None = None, height: int | None = None) -> list[float] | None:
    """Bring ``x, y[, x, y]`` values to ``[0, 1]``: values already in ``[0, 1]`` are kept; else, when
    all fit the image (``width``/``height`` given), they are read as pixels; else when all are at
    most 1000, as a 0-1000 scale. Anything else (negative, non-finite, too large) gives ``None``."""
    try:
        vals = [float(v) for v in values]
        if not vals or any(not math.isfinite(v) or v < 0 for v in vals):
            return None
        if all(v <= 1.0 for v in vals):
            return vals
        if width and height and width > 0 and height > 0:
            xs, ys = vals[0::2], vals[1::2]
            if all(x <= width for x in xs) and all(y <= height for y in ys):
                return [v / (width if i % 2 == 0 else height) for i, v in enumerate(vals)]
        if all(v <= 1000.0 for v in vals):
            return [v / 1000.0 for v in vals]
        return None
    except Exception:
        return None


def _parse_coords(reply: Any, pattern: re.Pattern[str], n: int, width: int | None, height: int | None) -> list[float] | None:
    """The last bracketed tuple of ``n`` numbers matching ``pattern`` in the reply, else the reply's
    numbers when there are exactly ``n``; normalised by :func:`normalize_coords`."""
    text = _as_text(reply)
    matches = pattern.findall(text)
    if matches:
        raw = matches[-1]
    else:
        raw = _ANY_NUM.findall(text)
        if len(raw) != n:
            return None
    return normalize_coords([float(v) for v in raw], width, height)


def parse_point(reply: Any, width: int | None = None, height: int | None = None) -> tuple[float, float] | None:
    """The last ``(x, y)`` of a reply, normalised to ``[0, 1]`` (see :func:`normalize_coords`)."""
    try:
        vals = _parse_coords(reply, _POINT_RE, 2, width, height)
        return (vals[0], vals[1]) if vals else None
    except Exception:
        return None


def parse_box(reply: Any, width: int | None = None, height: int | None = None) -> tuple[float, float, float, float] | None:
    """The last ``(x1, y1, x2, y2)`` of a reply, normalised and ordered (``x1 <= x2``, ``y1 <= y2``)."""
    try:
        vals = _parse_coords(reply, _BOX_RE, 4, width, height)
        if not vals:
            return None
        x1, y1, x2, y2 = vals
        return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    except Exception:
        return None
