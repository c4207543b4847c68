"""BEAR scorers: answer extraction, point-in-mask, box IoU, and the summary of a run.

Every public function here is total: no input string (or non-string) makes it raise. A reply
that cannot be read scores 0 and is reported with ``parsed_answer=None``.

Answer formats (BEAR, arXiv 2510.08759, Appendix I):

* multiple choice: four options ``A``-``D``; the reply is read the way VLMEvalKit reads it
  (:func:`extract_choice`): an explicit "the answer is X" / ``\\boxed{X}`` / ``<answer>X</answer>``,
  else a single option letter standing alone in the reply (with VLMEvalKit's guard against the
  article "A" inside a sentence), else a single option letter near the end, else the unique option
  whose text the reply contains, else (optionally) an LLM judge.
* pointing: ``(x, y)`` normalised to ``[0, 1]``; correct when the point lands inside the target's
  segmentation mask (:func:`point_in_mask`).
* bounding box: ``(x1, y1, x2, y2)`` normalised to ``[0, 1]``; the step score is the IoU with the
  ground-truth box (:func:`box_iou`) and the step counts as correct at ``IoU >= 0.5``
  (:data:`BOX_IOU_THRESHOLD`).

Coordinates larger than 1 are read as pixels when they fit the image, else on a 0-1000 scale
(as several open models emit); see :func:`normalize_coords`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bear_skills import bear_skill, bear_table

from .chains import skill_chains

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


def _tokens(text: str) -> list[str]:
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
    order of attempts is documented in the module docstring. ``judge`` (e.g. :class:`LLMJudge`)
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
            tokens = _tokens(text)
            letter = _standalone_letter(tokens, letters) or _letter_near_end(tokens, letters)
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


@dataclass
class LLMJudge:
    """Fallback answer extractor through an OpenAI-compatible chat endpoint (``openai`` package).

    ``judge(reply, options)`` returns an option letter or ``None``; network errors, refusals and
    odd outputs all give ``None``. ``client`` may be any object with the OpenAI client's
    ``chat.completions.create`` (tests pass a fake)."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: str | None = None
    client: Any = None
    timeout: float = 30.0

    def _client(self) -> Any:
        if self.client is None:
            from openai import OpenAI

            self.client = OpenAI(base_url=self.base_url, api_key=self.api_key or "EMPTY", timeout=self.timeout)
        return self.client

    def __call__(self, reply: str, options: Mapping[str, str]) -> str | None:
        try:
            listing = "\n".join(f"{k}. {v}" for k, v in options.items())
            prompt = (
                "You match an answer to the options of a single-choice question. Output only the letter of "
                "the option the answer chooses, or Z if it chooses none of them.\n"
                f"Options:\n{listing}\nAnswer: {reply}\nYour output:"
            )
            resp = self._client().chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": prompt}], temperature=0, max_tokens=4
            )
            content = resp.choices[0].message.content or ""
            tokens = _tokens(content.strip())
            letter = tokens[0].upper() if tokens else ""
            return letter if letter in options else None
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


def point_in_mask(point: Sequence[float] | None, mask: Any) -> bool:
    """Whether a normalised ``(x, y)`` lands on a ``True`` pixel of ``mask`` (``H x W`` bool)."""
    try:
        if point is None:
            return False
        m = np.asarray(mask, dtype=bool)
        if m.ndim != 2 or m.size == 0:
            return False
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y)) or not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return False
        h, w = m.shape
        col = min(int(x * w), w - 1)
        row = min(int(y * h), h - 1)
        return bool(m[row, col])
    except Exception:
        return False


def box_iou(a: Sequence[float] | None, b: Sequence[float] | None) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes (any consistent units); 0 for
    missing, degenerate or non-finite boxes."""
    try:
        if a is None or b is None:
            return 0.0
        ax1, ay1, ax2, ay2 = (float(v) for v in a)
        bx1, by1, bx2, by2 = (float(v) for v in b)
        vals = (ax1, ay1, ax2, ay2, bx1, by1, bx2, by2)
        if not all(math.isfinite(v) for v in vals):
            return 0.0
        iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
        ih = max(0.0, min(ay2, by2) - max(ay1, by1))
        inter = iw * ih
        union = max(0.0, ax2 - ax1) * max(0.0, ay2 - ay1) + max(0.0, bx2 - bx1) * max(0.0, by2 - by1) - inter
        if union <= 0 or not math.isfinite(union):
            return 0.0
        return float(min(1.0, max(0.0, inter / union)))
    except Exception:
        return 0.0


# ---------------------------------------------------------------------------------------------
# one step


@dataclass
class StepScore:
    """The score of one answer: ``score`` in ``[0, 1]`` (IoU for boxes), ``correct`` (boxes:
    IoU >= 0.5) and what was read from the reply (``parsed``: a letter, a point, a box or None)."""

    score: float
    correct: bool
    parsed: Any


def score_answer(
    skill: str,
    reply: Any,
    *,
    answer: Any = None,
    options: Mapping[str, str] | None = None,
    mask: Any = None,
    box: Sequence[float] | None = None,
    width: int | None = None,
    height: int | None = None,
    judge: Callable[[str, Mapping[str, str]], str | None] | None = None,
) -> StepScore:
    """Score one reply for one skill: multiple choice against ``answer`` (a letter) and
    ``options``; pointing against ``mask``; boxes against ``box`` (normalised). Never raises."""
    try:
        kind = answer_kind(skill)
        if kind == "point":
            pt = parse_point(reply, width, height)
            ok = point_in_mask(pt, mask)
            return StepScore(1.0 if ok else 0.0, ok, list(pt) if pt else None)
        if kind == "box":
            bx = parse_box(reply, width, height)
            iou = box_iou(bx, box)
            return StepScore(iou, iou >= BOX_IOU_THRESHOLD, list(bx) if bx else None)
        letter = extract_choice(reply, options or {k: "" for k in LETTERS}, judge=judge)
        ok = letter is not None and letter == answer
        return StepScore(1.0 if ok else 0.0, ok, letter)
    except Exception:
        return StepScore(0.0, False, None)


# ---------------------------------------------------------------------------------------------
# summary


def _mean(values: Iterable[float]) -> float:
    vals = list(values)
    return float(sum(vals) / len(vals)) if vals else 0.0


def _overall(results: list[Mapping[str, Any]]) -> dict[str, Any]:
    steps = [s for r in results for s in (r.get("steps") or [])]
    return {
        "episode_success_rate": _mean(1.0 if r.get("episode_success") else 0.0 for r in results),
        "step_accuracy": _mean(1.0 if s.get("correct") else 0.0 for s in steps),
        "mean_step_score": _mean(float(s.get("score", 0.0) or 0.0) for s in steps),
        "n": len(results),
        "n_steps": len(steps),
    }


def summarize_bear(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate per-episode results (``info["episode_result"]`` of ``BearLongHorizon-v0``:
    ``{"episode_id", "split", "episode_success", "steps": [{"skill", "correct", "score"}]}``).

    Returns ``{"overall": {"episode_success_rate", "step_accuracy", "mean_step_score", "n",
    "n_steps"}, "by_skill": {skill: {"accuracy", "mean_score", "n"}}, "by_split": {split:
    overall-like}}``, plus ``first_failure`` and ``conditional_accuracy``
    (:func:`~embodied_gym.rewards.chains.skill_chains`). ``n`` counts episodes (``by_skill``:
    steps). ``by_bear_skill`` is the per-skill table in BEAR's codes, Table 1's order and units
    (:func:`~embodied_gym.rewards.bear_skills.bear_table`). Malformed entries are skipped."""
    clean = [r for r in results if isinstance(r, Mapping)]
    by_skill: dict[str, list[Mapping[str, Any]]] = {}
    for r in clean:
        for s in r.get("steps") or []:
            if isinstance(s, Mapping):
                by_skill.setdefault(str(s.get("skill", "unknown")), []).append(s)
    by_split: dict[str, list[Mapping[str, Any]]] = {}
    for r in clean:
        by_split.setdefault(str(r.get("split", "unknown")), []).append(r)
    return {
        **skill_chains(clean),
        "overall": _overall(clean),
        "by_skill": {
            k: {
                "accuracy": _mean(1.0 if s.get("correct") else 0.0 for s in v),
                "mean_score": _mean(float(s.get("score", 0.0) or 0.0) for s in v),
                "n": len(v),
            }
            for k, v in sorted(by_skill.items())
        },
        "by_split": {k: _overall(v) for k, v in sorted(by_split.items())},
        "by_bear_skill": bear_table(by_skill),
    }
