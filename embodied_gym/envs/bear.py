"""BEAR long-horizon episodes as a Gymnasium environment (:class:`BearLongHorizonEnv`).

Registered id ``BearLongHorizon-v0`` (``family="bear"``, default episodes ``"bear-lh-v2:test"``,
backend ``house``). One Gymnasium episode is one long-horizon household episode; each ``step``
answers one skill question (BEAR, arXiv 2510.08759, Appendix C.6), in the order of the
demonstration.

Frames are rendered live from the demonstration's recorded poses and object states
(:class:`~embodied_gym.episodes.bear.replay.Replay`), so the episode replays in any backend that
has its scene. Ground truth for points and boxes is recomputed from the live segmentation of the
target at the environment's resolution (the stored answer is the fallback when the target has
no pixel at that resolution).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..episodes.bear.arrows import draw_arrows
from ..episodes.bear.grounding import interior_point, mask_box
from ..episodes.bear.options import sample_history
from ..episodes.bear.prompts import option_lines, question_text
from ..episodes.bear.replay import Replay
from ..episodes.spec import Episode, load_episodes
from ..rewards.bear import BOX_IOU_THRESHOLD, LETTERS, SKILLS, answer_kind, score_answer
from ..sims.base import Simulator
from .common import (
    PRIVILEGED,
    TEXT_CHARSET,
    EpisodeCycle,
    build_simulator,
    check_judge,
    check_sim_kwargs,
    clean_text,
    env_arguments,
)
from .perception import frame_report, frame_state

TEXT_MAX = 4096
MAX_QUERIES = 64
#: suites kept loadable for reproducibility whose known defects are listed in docs/BEAR.md
DEPRECATED_SUITES = frozenset({"bear-lh-v1"})


def _clean(text: Any, limit: int = TEXT_MAX) -> str:
    return clean_text(text, limit)


def _check_queries(ep: Episode, where: str = "") -> None:
    """Raise ``ValueError`` naming the episode, query and field unless ``ep`` carries a
    demonstration and well-formed ``extra["bear"]["queries"]`` (the fields this env reads: a
    known ``skill``, a ``step`` of the demonstration, an ``answer`` of the skill's kind, and
    ``options`` ``{"A": ..., "D": ...}`` holding the answer for multiple choice)."""
    prefix = f"{where}BearLongHorizon-v0: episode {ep.id!r}: field 'extra.bear.queries"
    bear = ep.extra.get("bear")
    queries = bear.get("queries") if isinstance(bear, dict) else None
    if not queries or not isinstance(queries, list) or ep.demonstration is None:
        raise ValueError(f"{prefix}': missing; BEAR episodes need queries and a demonstration")
    if len(queries) > MAX_QUERIES:  # observation["query_index"] is Discrete(MAX_QUERIES)
        raise ValueError(f"{prefix}': {len(queries)} queries; at most {MAX_QUERIES} per episode")
    n_states = len(ep.demonstration.actions) + 1
    for i, q in enumerate(queries):
        if not isinstance(q, dict):
            raise ValueError(f"{prefix}[{i}]': expected an object, got {type(q).__name__}")
        skill = q.get("skill")
        if skill not in SKILLS:
            raise ValueError(f"{prefix}[{i}].skill': unknown skill {skill!r}; expected one of {', '.join(SKILLS)}")
        step = q.get("step")
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < n_states:
            raise ValueError(f"{prefix}[{i}].step': expected a demonstration step in 0..{n_states - 1}, got {step!r}")
        if "answer" not in q:
            raise ValueError(f"{prefix}[{i}].answer': missing")
        kind, answer = answer_kind(skill), q["answer"]
        if kind == "choice":
            options = q.get("options")
            if not isinstance(options, dict) or set(options) != set(LETTERS):
                raise ValueError(f"{prefix}[{i}].options': expected {{'A': ..., 'D': ...}}, got {options!r}")
            if answer not in options:
                raise ValueError(f"{prefix}[{i}].answer': expected one of {', '.join(LETTERS)}, got {answer!r}")
        else:
            size = 2 if kind == "point" else 4
            if (not isinstance(answer, list) or len(answer) != size
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in answer)):
                raise ValueError(f"{prefix}[{i}].answer': expected {size} normalised numbers for {skill}, got {answer!r}")


class BearLongHorizonEnv(gym.Env[dict[str, Any], Any]):
    """Step-wise BEAR skill questions over a replayed long-horizon household episode.

    Constructor: ``BearLongHorizonEnv(episodes="bear-lh-v2:test", backend="house", width=320,
    height=240, history_frames=16, stop_on_error=False, judge=None, render_mode=None,
    **sim_kwargs)``. ``episodes``: a ref (path or ``"SUITE:SPLIT"``) or a list of
    :class:`~embodied_gym.episodes.spec.Episode` carrying ``extra["bear"]["queries"]``.
    ``judge``: optional fallback answer extractor for multiple choice, asked only when the rules
    read nothing: a callable ``(reply, options) -> letter | None`` such as
    :class:`embodied_gym.agents.judge.LLMJudge` (``egym eval`` turns a model name or a dict of
    ``LLMJudge`` keyword arguments in ``--env-kwargs`` into one with
    :func:`~embodied_gym.agents.judge.make_judge`). ``stop_on_error``: end the episode at the
    first wrong answer (the remaining questions count as not answered).

    Observation (``Dict``): ``image`` (``H x W x 3`` uint8: the current view; for trajectory
    questions with the three arrows drawn), ``history`` (``history_frames x H x W x 3``: up to
    that many frames of the episode so far, sampled uniformly with the first and the current one
    included, oldest first; always ``history_frames`` frames, a history of fewer steps repeats frames,
    so the count never tells how far the episode has gone), ``history_length``,
    ``question`` (the question with BEAR's answer-format instruction), ``description`` (the query's
    ``description``: what fills BEAR's [Descriptions] slot in the ``bear-paper`` prompts; empty
    when the query has none, and those prompts fall back to ``question``), ``options`` (four
    ``"A. ..."`` strings; empty for pointing and boxes), ``skill`` (our skill id, e.g.
    ``relative_direction``), ``instruction`` (the household task), ``query_index``.

    Episode choice on ``reset``: ``options={"episode_id": ID}``; else ``seed % len(episodes)``;
    else the next episode after the previous one (cyclic).

    Action: ``Text`` (any string; strings outside the space's charset are accepted too).
    Reward: the step score -- ``1``/``0`` for multiple choice and pointing (the point must land
    on the target's mask), the IoU for boxes. ``info``: ``correct`` (boxes: IoU >= 0.5),
    ``skill``, ``bear_skill``, ``parsed_answer``, ``score``, ``query_index``,
    ``question_id`` (``"EPISODE/qN"``), ``options`` (the question's options, ``None`` for
    coordinates), ``episode_id``, ``box_iou_threshold``; at the end also ``episode_success``
    (every step correct) and ``episode_result`` ``{"episode_id", "split", "episode_success",
    "steps": [{"skill", "correct", "score"}]}``. Of the answer key, only what the reward says
    is public (whether the agent's own answer was right, and its score).

    ``info["privileged"]``, the evaluator's view that no agent may read (none of embodied-gym's
    agents does; the runner logs it, reports draw it, ``egym audit`` checks that nothing else
    public depends on the key): ``ground_truth`` (the answer letter, point or box, from the live
    render), for pointing also ``ground_truth_mask`` (the target's ``H x W`` bool mask).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 2, "family": "bear"}

    def __init__(
        self,
        episodes: Any = "bear-lh-v2:test",
        backend: str = "house",
        width: int = 320,
        height: int = 240,
        history_frames: int = 16,
        stop_on_error: bool = False,
        judge: Any = None,
        render_mode: str | None = None,
        **sim_kwargs: Any,
    ) -> None:
        check_sim_kwargs("BearLongHorizon-v0", backend, sim_kwargs, env_arguments(BearLongHorizonEnv.__init__))
        self.episodes: list[Episode] = load_episodes(episodes)
        if not self.episodes:
            raise ValueError(f"BearLongHorizon-v0: no episodes in {episodes!r}")
        for ep in self.episodes:
            _check_queries(ep, f"{episodes}: " if isinstance(episodes, (str, os.PathLike)) else "")
            if ep.backend != backend:
                raise ValueError(f"BearLongHorizon-v0: episode {ep.id!r}: field 'backend': {ep.backend!r} does not "
                                 f"match the env's backend {backend!r}")
        old = sorted({str(ep.extra["bear"].get("suite")) for ep in self.episodes} & DEPRECATED_SUITES)
        if old:
            warnings.warn(f"BearLongHorizon-v0: {', '.join(old)} is deprecated (its questions can be partly answered "
                          "without looking; see docs/BEAR.md); use bear-lh-v2", DeprecationWarning, stacklevel=2)
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if history_frames < 1:
            raise ValueError(f"history_frames must be >= 1, got {history_frames}")
        self.backend, self.width, self.height = backend, int(width), int(height)
        self.history_frames = int(history_frames)
        self.stop_on_error = bool(stop_on_error)
        judge = check_judge(judge, "BearLongHorizon-v0")
        self.judge = judge
        self.render_mode = render_mode
        self.sim_kwargs = sim_kwargs
        self.sim: Simulator | None = None
        text = spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET)
        self.observation_space = spaces.Dict({
            "image": spaces.Box(0, 255, (self.height, self.width, 3), np.uint8),
            "history": spaces.Box(0, 255, (self.history_frames, self.height, self.width, 3), np.uint8),
            "history_length": spaces.Discrete(self.history_frames + 1),
            "question": text,
            "description": text,
            "options": spaces.Tuple([spaces.Text(1024, min_length=0, charset=TEXT_CHARSET)] * 4),
            "skill": spaces.Text(64, min_length=0, charset=TEXT_CHARSET),
            "instruction": text,
            "query_index": spaces.Discrete(MAX_QUERIES),
        })
        self.action_space = spaces.Text(TEXT_MAX, min_length=0, charset=TEXT_CHARSET)
        self._cycle = EpisodeCycle(self.episodes, "BearLongHorizon-v0")
        self._episode: Episode | None = None
        self._replay: Replay | None = None
        self._q = 0
        self._steps: list[dict[str, Any]] = []
        self._truth: dict[str, Any] = {}
        self._image: np.ndarray | None = None
        self._frames: dict[int, np.ndarray] = {}
        self._done = True

    @property
    def queries(self) -> list[dict[str, Any]]:
        """The current episode's query records (``extra["bear"]["queries"]``)."""
        assert self._episode is not None
        return self._episode.extra["bear"]["queries"]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        self._episode = self._cycle.select(seed, options)
        if self.sim is None:
            self.sim = build_simulator(self.backend, self.width, self.height, self.sim_kwargs)
        self._replay = Replay(self.sim, self._episode, cache=False)
        self._frames.clear()
        self._q, self._steps, self._done = 0, [], False
        return self._observation(), {"episode_id": self._episode.id, "n_queries": len(self.queries)}

    # -- observations and ground truth ----------------------------------------------------
    def _frame(self, t: int) -> np.ndarray:
        """The RGB frame of step ``t`` (rendered once per episode; only pixels are kept)."""
        assert self._replay is not None
        if t not in self._frames:
            self._frames[t] = np.ascontiguousarray(self._replay.observe(t).rgb[..., :3], dtype=np.uint8)
        return self._frames[t]

    def _ground_truth(self, query: dict[str, Any]) -> dict[str, Any]:
        """Answer, mask and box of ``query`` from the live render of its step."""
        kind = answer_kind(query["skill"])
        if kind == "choice":
            return {"answer": query["answer"], "text": str(query["answer"])}
        assert self._replay is not None
        obs = self._replay.observe(int(query["step"]))
        mask = obs.segmentation == query.get("target") if query.get("target") is not None else np.zeros((1, 1), bool)
        if not mask.any():  # target lost at this resolution: the stored answer stands
            h, w = obs.segmentation.shape
            mask = np.zeros((h, w), bool)
            box = query.get("box") or (query["answer"] if kind == "box" else None)
            if box:
                mask[int(box[1] * h): max(int(box[1] * h) + 1, int(np.ceil(box[3] * h))),
                     int(box[0] * w): max(int(box[0] * w) + 1, int(np.ceil(box[2] * w)))] = True
            elif kind == "point":
                px, py = query["answer"]
                mask[min(int(py * h), h - 1), min(int(px * w), w - 1)] = True
            live_box, point = box, (query["answer"] if kind == "point" else interior_point(mask))
        else:
            live_box, point = mask_box(mask), interior_point(mask)
        if kind == "point":
            return {"answer": point, "mask": mask, "text": f"({point[0]:.4f}, {point[1]:.4f})"}
        return {"answer": live_box, "box": live_box, "text": "[" + ", ".join(f"{v:.4f}" for v in live_box) + "]"}

    def _observation(self) -> dict[str, Any]:
        assert self._episode is not None
        query = self.queries[min(self._q, len(self.queries) - 1)]
        t = int(query["step"])
        image = self._frame(t).copy()
        if query.get("arrows"):
            image = draw_arrows(image, query["arrows"], query.get("arrow_colors") or ("red", "green", "blue"))
        idx = sample_history(t, self.history_frames)
        history = np.zeros((self.history_frames, self.height, self.width, 3), np.uint8)
        for k, i in enumerate(idx):
            history[k] = self._frame(i)
        self._truth = self._ground_truth(query)
        self._image = image
        return {
            "image": image,
            "history": history,
            "history_length": len(idx),
            "question": _clean(question_text(query)),
            "description": _clean(query.get("description", "")),
            "options": tuple(_clean(o, 1024) for o in option_lines(query)),
            "skill": _clean(query["skill"], 64),
            "instruction": _clean(self._episode.instruction),
            "query_index": min(self._q, MAX_QUERIES - 1),
        }

    def oracle_action(self) -> str:
        """The correct answer text for the current question (a letter, ``"(x, y)"`` or
        ``"[x1, y1, x2, y2]"``); ``""`` when no question is pending."""
        if self._done or self._episode is None:
            return ""
        return str(self._truth.get("text", ""))

    def perception_report(self) -> str:
        """Privileged ground truth of the current question's frame for the perception ablation
        (:func:`~embodied_gym.envs.perception.frame_report`: the objects with pixels in it, with
        boxes, distance and direction); ``""`` when no question is pending."""
        if self._done or self._episode is None or self._replay is None:
            return ""
        obs = self._replay.observe(int(self.queries[self._q]["step"]))
        return frame_report(obs.objects, obs.agent, self.width, self.height)

    def perception_state(self) -> dict[str, Any]:
        """Structured privileged ground truth of the current question's frame for tool-using agents
        (:func:`~embodied_gym.envs.perception.frame_state`); ``{}`` when no question is pending."""
        if self._done or self._episode is None or self._replay is None:
            return {}
        return frame_state(self._replay.observe(int(self.queries[self._q]["step"])), self.width, self.height)

    # -- stepping --------------------------------------------------------------------------
    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._done or self._episode is None:
            raise RuntimeError("BearLongHorizon-v0: call reset() before step() (the episode has ended)")
        query = self.queries[self._q]
        truth = self._truth
        result = score_answer(
            query["skill"], action, answer=truth["answer"], options=query.get("options") or None,
            mask=truth.get("mask"), box=truth.get("box"), width=self.width, height=self.height, judge=self.judge,
        )
        self._steps.append({"skill": query["skill"], "correct": bool(result.correct), "score": float(result.score)})
        info: dict[str, Any] = {
            "correct": bool(result.correct),
            "skill": query["skill"],
            "bear_skill": query.get("bear_skill", ""),
            "parsed_answer": result.parsed,
            "score": float(result.score),
            "query_index": self._q,
            "question_id": f"{self._episode.id}/q{self._q}",
            "options": query.get("options") or None,
            "episode_id": self._episode.id,
            "box_iou_threshold": BOX_IOU_THRESHOLD,
            PRIVILEGED: {"ground_truth": truth["answer"]},
        }
        if truth.get("mask") is not None:  # pointing: the target's pixels (reports draw them)
            info[PRIVILEGED]["ground_truth_mask"] = truth["mask"]
        self._q += 1
        terminated = self._q >= len(self.queries) or (self.stop_on_error and not result.correct)
        if terminated:
            self._done = True
            success = len(self._steps) == len(self.queries) and all(s["correct"] for s in self._steps)
            info["episode_success"] = success
            info["episode_result"] = {
                "episode_id": self._episode.id,
                "split": self._episode.split,
                "episode_success": success,
                "steps": list(self._steps),
                "n_queries": len(self.queries),
            }
        # after the last answer _observation() shows the last question again (it clamps the index)
        return self._observation(), float(result.score), terminated, False, info

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return None if self._image is None else self._image.copy()
        return None

    def close(self) -> None:
        if self.sim is not None:
            self.sim.close()
            self.sim = None
