"""BEAR's released benchmark as a Gymnasium environment (:class:`BearSkillEnv`).

Registered id ``BearSkill-v0`` (``family="bear"``; default prompt profile ``bear-paper``): the
items of ``egym import bear`` over all 14 skills. One Gymnasium episode is one question, answered
in one step and scored the way BEAR's released scorer does
(:func:`~embodied_gym.rewards.bear_protocol.score_bear`): the point inside the mask, the box's
IoU with the mask's pixels, the option letter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..episodes.bear.prompts import format_suffix
from ..episodes.bear_items import BearItem, load_bear_items
from ..rewards.bear import BOX_IOU_THRESHOLD
from ..rewards.bear_protocol import score_bear
from ..rewards.bear_skills import bear_skill
from .common import PRIVILEGED, TEXT_CHARSET, EpisodeCycle, check_judge, clean_text, load_frame
from .video import read_video_frames

TEXT_MAX = 4096
N_OPTIONS = 6
SCORINGS = ("bear", "lenient")


def _resize(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    if frame.shape[:2] == (height, width):
        return frame
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.BILINEAR), dtype=np.uint8)


def _mask(path: os.PathLike[str] | str) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("L")) > 0  # BEAR reads masks in mode "L"; white = target


class BearSkillEnv(gym.Env[dict[str, Any], Any]):
    """One BEAR question per episode, scored with BEAR's rules.

    Constructor: ``BearSkillEnv(episodes, width=640, height=480, num_frames=16, skills=None,
    scoring="bear", judge=None, render_mode=None)``. ``episodes``: ``bear_items.jsonl``, the
    folder holding it, or a list of :class:`~embodied_gym.episodes.bear_items.BearItem`.
    ``num_frames``: frames sampled from each video, uniformly with the first and the last
    included (BEAR: 16 for proprietary models, 32 for open ones). ``skills``: keep only these
    skill ids. ``scoring``: ``"bear"`` (BEAR's released rules: the first tuple of the reply) or
    ``"lenient"`` (the project's parsers: the last tuple, pixel and 0-1000 scales), both against
    the mask. ``judge``: optional multiple-choice fallback extractor, as for
    ``BearLongHorizon-v0`` (BEAR itself asks gpt-3.5-turbo).

    Observation (``Dict``, keys shared with ``BearLongHorizon-v0`` so the same prompt builders
    apply): ``image`` (the question's image resized to ``width x height``; for video-only skills
    the last sampled frame), ``history`` (``num_frames x H x W x 3``: the sampled video frames,
    black padding after ``history_length``), ``history_length``, ``has_image`` (``1`` when
    ``image`` is an observation of its own, not the video's last frame), ``question`` (the
    question with BEAR's answer-format instruction), ``description`` (BEAR's ``question`` field
    as released: the target description for pointing and boxes), ``options`` (``"A. ..."``
    strings, empty ones after the last), ``skill``, ``instruction`` (empty), ``query_index`` (0).

    Action: ``Text``. Reward: the step score (1/0; the IoU for boxes). ``info``: ``correct``
    (boxes: IoU >= 0.5), ``skill``, ``bear_skill`` (``"Pointing/GEN"``), ``parsed_answer``,
    ``score``, ``privileged`` (the evaluator's view, never read by an agent: ``{"ground_truth"}``,
    the letter, or ``None`` for mask-scored skills) and ``episode_result`` ``{"episode_id", "split", "episode_success", "steps": [{"skill",
    "correct", "score"}], "n_queries": 1}`` (``summarize_bear`` aggregates it).
    ``oracle_action()``: the letter, or a point / box read off the mask (an interior pixel /
    the mask's bounding box).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 1, "family": "bear", "prompt_profile": "bear-paper"}

    def __init__(
        self,
        episodes: str | os.PathLike[str] | Sequence[BearItem] | None = None,
        width: int = 640,
        height: int = 480,
        num_frames: int = 16,
        skills: Sequence[str] | None = None,
        scoring: str = "bear",
        judge: Any = None,
        render_mode: str | None = None,
    ) -> None:
        if episodes is None:
            raise ValueError("BearSkill-v0: pass episodes= (the folder or bear_items.jsonl written by `egym import bear`)")
        items = load_bear_items(episodes)
        if skills is not None:
            unknown = [s for s in skills if bear_skill(s) is None]
            if unknown:
                raise ValueError(f"BearSkill-v0: unknown skill(s) {unknown}")
            wanted = {bear_skill(s).id for s in skills}  # type: ignore[union-attr]
            items = [i for i in items if i.skill in wanted]
        if not items:
            raise ValueError(f"BearSkill-v0: no items in {episodes!r} (skills={skills!r})")
        if scoring not in SCORINGS:
            raise ValueError(f"BearSkill-v0: scoring must be one of {SCORINGS}, got {scoring!r}")
        if int(num_frames) < 1 or int(width) < 1 or int(height) < 1:
            raise ValueError(f"BearSkill-v0: num_frames, width and height must be >= 1, got {num_frames}, {width}, {height}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        judge = check_judge(judge, "BearSkill-v0")
        self.episodes = items
        self.width, self.height, self.num_frames = int(width), int(height), int(num_frames)
        self.scoring, self.judge, self.render_mode = scoring, judge, render_mode
        text = spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET)
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (self.height, self.width, 3), np.uint8),
            "history": spaces.Box(0, 255, (self.num_frames, self.height, self.width, 3), np.uint8),
            "history_length": spaces.Discrete(self.num_frames + 1),
            "has_image": spaces.Discrete(2),
            "question": text,
            "description": text,
            "options": spaces.Tuple([spaces.Text(1024, min_length=0, charset=TEXT_CHARSET)] * N_OPTIONS),
            "skill": spaces.Text(64, min_length=0, charset=TEXT_CHARSET),
            "instruction": text,
            "query_index": spaces.Discrete(1),
        })
        self.action_space = spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET)
        self._cycle = EpisodeCycle(self.episodes, "BearSkill-v0")
        self._item: BearItem | None = None
        self._mask: np.ndarray | None = None
        self._obs: dict[str, Any] | None = None
        self._done = True

    def _load(self, item: BearItem) -> dict[str, Any]:
        where = f"BearSkill-v0: item {item.id!r}"
        frames: list[np.ndarray] = []
        try:
            if item.video is not None:
                frames = [_resize(f, self.width, self.height) for f in read_video_frames(item.path("video"), self.num_frames)]
            image = load_frame(item.path("image"), self.width, self.height) if item.image is not None else frames[-1]
            self._mask = _mask(item.path("mask")) if item.mask is not None else None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{where}: cannot read its media: {exc}") from None
        history = np.zeros((self.num_frames, self.height, self.width, 3), np.uint8)
        for k, frame in enumerate(frames[: self.num_frames]):
            history[k] = frame
        lines = [f"{k}. {v}" for k, v in item.options.items()][:N_OPTIONS]
        suffix = format_suffix(item.skill)
        return {
            "image": image,
            "history": history,
            "history_length": min(len(frames), self.num_frames),
            "has_image": int(item.image is not None),
            "question": clean_text(f"{item.question} {suffix}", TEXT_MAX),
            "description": clean_text(item.question, TEXT_MAX),
            "options": tuple(clean_text(o, 1024) for o in lines + [""] * (N_OPTIONS - len(lines))),
            "skill": item.skill,
            "instruction": "",
            "query_index": 0,
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        self._item = self._cycle.select(seed, options)
        self._obs = self._load(self._item)
        self._done = False
        return self._obs, {"episode_id": self._item.id, "skill": self._item.skill, "n_queries": 1}

    def oracle_action(self) -> str:
        """The right answer: the letter; for pointing a mask pixel's centre as ``(x, y)``; for
        boxes the mask's bounding box as ``(x1, y1, x2, y2)`` (both normalised)."""
        if self._done or self._item is None:
            return ""
        kind = bear_skill(self._item.skill).kind  # type: ignore[union-attr]
        if kind == "choice":
            return str(self._item.answer)
        if self._mask is None or not self._mask.any():
            return ""
        h, w = self._mask.shape
        ys, xs = np.nonzero(self._mask)
        if kind == "point":
            k = len(xs) // 2  # a pixel of the mask (its median in scan order)
            return f"({(xs[k] + 0.5) / w:.6f}, {(ys[k] + 0.5) / h:.6f})"
        # pixel centres: BEAR's int(v * size) lands back on the mask's extreme pixels
        return f"({(xs.min() + 0.5) / w:.6f}, {(ys.min() + 0.5) / h:.6f}, {(xs.max() + 0.5) / w:.6f}, {(ys.max() + 0.5) / h:.6f})"

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._done or self._item is None or self._obs is None:
            raise RuntimeError("BearSkill-v0: call reset() before step() (the episode has ended)")
        item = self._item
        skill = bear_skill(item.skill)
        assert skill is not None
        result = score_bear(skill.kind, action, answer=item.answer, options=item.options or None, mask=self._mask,
                            lenient=self.scoring == "lenient", judge=self.judge, box_threshold=BOX_IOU_THRESHOLD)
        self._done = True
        step = {"skill": item.skill, "correct": bool(result.correct), "score": float(result.score)}
        info = {
            "correct": bool(result.correct), "skill": item.skill, "bear_skill": skill.label,
            "parsed_answer": result.parsed, "score": float(result.score), PRIVILEGED: {"ground_truth": item.answer},
            "episode_id": item.id, "query_index": 0, "box_iou_threshold": BOX_IOU_THRESHOLD,
            "episode_success": bool(result.correct),
            "episode_result": {"episode_id": item.id, "split": item.split, "episode_success": bool(result.correct),
                               "steps": [step], "n_queries": 1},
        }
        obs = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self._obs.items()}  # never share with reset's
        return obs, float(result.score), True, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array" and self._obs is not None:
            return self._obs["image"].copy()
        return None
