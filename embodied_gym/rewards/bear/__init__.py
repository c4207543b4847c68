"""BEAR scorers: answer extraction (:mod:`.answers`), point-in-mask and box IoU (:mod:`.scoring`),
and the summary of a run (:mod:`.summary`). An LLM fallback judge for multiple choice is a
network client and lives with the agents (:class:`embodied_gym.agents.judge.LLMJudge`).

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

from .answers import (
    BOX_IOU_THRESHOLD,
    BOX_SKILLS,
    LETTERS,
    MC_SKILLS,
    NONE_OF_THE_ABOVE,
    POINT_SKILLS,
    SKILLS,
    Judge,
    answer_kind,
    extract_choice,
    normalize_coords,
    parse_box,
    parse_point,
)
from .scoring import StepScore, box_iou, point_in_mask, score_answer
from .summary import summarize_bear

__all__ = [
    "BOX_IOU_THRESHOLD",
    "BOX_SKILLS",
    "LETTERS",
    "MC_SKILLS",
    "NONE_OF_THE_ABOVE",
    "POINT_SKILLS",
    "SKILLS",
    "Judge",
    "StepScore",
    "answer_kind",
    "box_iou",
    "extract_choice",
    "normalize_coords",
    "parse_box",
    "parse_point",
    "point_in_mask",
    "score_answer",
    "summarize_bear",
]
