"""Re-render a logged episode for reports and videos, deterministically, through the environment.

``steps.jsonl`` holds what the model said and how it scored, not pixels. To show frames and
maps, :class:`EpisodeReplayer` rebuilds each episode exactly as ``egym eval --resume`` does: it
makes the run's environment (``run.json``: ``env_id``, ``episodes``, ``seed``, optional
``env_kwargs``), resets it to the episode with the run's seed, and re-feeds the logged actions
(``action``: the model's raw reply). Environments are deterministic for an episode and seed, so
the frames are the ones the model saw; every replayed observation is checked against the
logged ``obs_hash`` and a difference is reported per step (``StepView.matches``), never hidden.

Only the Gymnasium API and the simulator interface are used: ``env.unwrapped.episodes`` (the
episode specs, for the expert's demonstration path), ``env.unwrapped.sim.pose`` (the agent's
position after each step) and ``sim.top_down_map`` (the map, rendered three times and composed
by :func:`~embodied_gym.reports.draw.compose_paths`). A BEAR step's drawn ground truth comes
from the step's ``info`` (``parsed_answer``; ``ground_truth`` and ``ground_truth_mask`` from
``info["privileged"]``, the evaluator's view: a report is an evaluator, not an agent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..envs.common import evaluator_view
from ..eval.envside import make_env
from ..eval.runlog import jsonable, obs_hash
from .draw import compose_paths, draw_grounding, trim
from .runs import Run

#: info fields kept per step (JSON-safe) for the pages
INFO_KEYS = ("action", "invalid_action", "action_success", "feedback", "success", "subgoals_met", "subgoals_total",
             "correct", "expected", "skill", "bear_skill", "ground_truth", "parsed_answer", "score")


def _info_subset(info: dict[str, Any]) -> dict[str, Any]:
    """The :data:`INFO_KEYS` of a step's info; closed-loop progress (``subgoals_met``) and BEAR's
    ``ground_truth`` are read from ``info["privileged"]``, the evaluator's view (a report is an
    evaluator, not an agent; :func:`~embodied_gym.envs.common.evaluator_view`)."""
    flat = evaluator_view(info)
    return {k: jsonable(flat[k]) for k in INFO_KEYS if k in flat}


#: observation text fields kept per step
OBS_TEXT_KEYS = ("instruction", "question", "options", "skill", "feedback")


@dataclass
class StepView:
    """One replayed step: ``frame`` (what the model saw; for BEAR with the ground truth and the
    answer drawn), ``record`` (the logged step), ``info`` (the environment's info, JSON-safe
    subset), ``text`` (the observation's text fields), ``position`` (agent ``(x, z)`` after the
    step, when the env has a simulator), ``matches`` (replayed observation hash equals the
    logged one; ``None`` when the log has no hash)."""

    index: int
    frame: np.ndarray
    record: dict[str, Any]
    info: dict[str, Any]
    text: dict[str, Any]
    position: tuple[float, float] | None
    matches: bool | None


@dataclass
class EpisodeReplay:
    """A replayed episode: ``steps``, ``final_frame`` (after the last action), ``map`` (top-down
    with the agent's path in the backend's colour and the expert's in magenta; ``None`` without a
    simulator), ``agent_path`` / ``expert_path`` (``(x, z)`` lists), ``episode`` (the spec's
    ``to_dict()`` fields ``instruction``, ``category``, ``split``; ``{}`` if not found)."""

    episode_id: str
    steps: list[StepView] = field(default_factory=list)
    final_frame: np.ndarray | None = None
    map: np.ndarray | None = None
    agent_path: list[tuple[float, float]] = field(default_factory=list)
    expert_path: list[tuple[float, float]] = field(default_factory=list)
    episode: dict[str, Any] = field(default_factory=dict)

    @property
    def mismatches(self) -> int:
        return sum(1 for s in self.steps if s.matches is False)


def _image(obs: Any) -> np.ndarray:
    image = obs.get("image") if isinstance(obs, dict) else obs
    if not isinstance(image, np.ndarray):
        raise ValueError("the environment's observation has no 'image' array; nothing to show")
    return image


def _text(obs: Any) -> dict[str, Any]:
    if not isinstance(obs, dict):
        return {}
    return {k: jsonable(obs[k]) for k in OBS_TEXT_KEYS if k in obs and not isinstance(obs[k], np.ndarray)}


class EpisodeReplayer:
    """Replays the episodes of one run through one environment (made once, reused; close it
    with :meth:`close` or use it as a context manager). ``map_size``: pixels of the map side."""

    def __init__(self, run: Run, map_size: int = 480) -> None:
        episodes = run.info.get("episodes")
        if not run.env_id or episodes in (None, "<list>"):
            raise ValueError(f"{run.path / 'run.json'}: needs 'env_id' and an 'episodes' reference (path or SUITE:SPLIT) "
                             f"to replay episodes; got env_id={run.env_id!r}, episodes={episodes!r}")
        self.run, self.map_size = run, map_size
        self.env = make_env(run.env_id, episodes, dict(run.info.get("env_kwargs") or {}))
        self.specs = {str(getattr(e, "id", "")): e for e in getattr(self.env.unwrapped, "episodes", [])}

    def __enter__(self) -> EpisodeReplayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.env.close()

    def _pose_xz(self) -> tuple[float, float] | None:
        sim = getattr(self.env.unwrapped, "sim", None)
        if sim is None:
            return None
        p = sim.pose
        return (float(p.x), float(p.z))

    def replay(self, episode_id: str) -> EpisodeReplay:
        """Replay one logged episode. Raises ``ValueError`` naming the episode when the
        environment does not know it."""
        if episode_id not in self.specs:
            raise ValueError(f"{self.run.path}: episode {episode_id!r} is not in {self.run.info.get('episodes')!r}")
        spec = self.specs[episode_id]
        out = EpisodeReplay(episode_id, episode={k: getattr(spec, k) for k in ("instruction", "category", "split")
                                                  if isinstance(getattr(spec, k, None), str)})
        demo = getattr(spec, "demonstration", None)
        if demo is not None:
            out.expert_path = [p.xz for p in demo.poses]
        obs, _ = self.env.reset(seed=self.run.seed, options={"episode_id": episode_id})
        family = self.run.family
        pos = self._pose_xz()
        if pos is not None and family != "bear":
            out.agent_path.append(pos)
        for rec in self.run.steps.get(episode_id, []):
            logged = rec.get("obs_hash")
            matches = None if not logged else logged == obs_hash(obs)
            frame, text = _image(obs), _text(obs)
            obs, _reward, terminated, truncated, info = self.env.step(rec.get("action") or "")
            if family == "bear":
                seen = evaluator_view(info)
                frame = draw_grounding(frame, seen.get("ground_truth"), seen.get("parsed_answer"),
                                       seen.get("ground_truth_mask"))
            pos = self._pose_xz()
            if pos is not None and family != "bear":
                out.agent_path.append(pos)
            out.steps.append(StepView(index=int(rec["step"]), frame=np.array(frame, copy=True), record=rec,
                                      info=_info_subset(info), text=text,
                                      position=pos if family != "bear" else None, matches=matches))
            if terminated or truncated:
                break
        out.final_frame = np.array(_image(obs), copy=True)
        out.map = self._map(out)
        return out

    def _map(self, ep: EpisodeReplay) -> np.ndarray | None:
        sim = getattr(self.env.unwrapped, "sim", None)
        if sim is None:
            return None
        size = self.map_size
        base = sim.top_down_map(None, size=size)
        agent = sim.top_down_map(ep.agent_path, size=size) if len(ep.agent_path) > 1 else base
        expert = sim.top_down_map(ep.expert_path, size=size) if len(ep.expert_path) > 1 else base
        return trim(compose_paths(base, agent, expert))
