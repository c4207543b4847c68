"""BEAR: does anything public depend on the answer key?

``BearLongHorizon-v0`` keeps the ground truth (answer letter, point, box, the target's mask) under
``info["privileged"]``, the evaluator's view. A Gymnasium agent reads everything else: the
observation and the public ``info`` of every step. If any of it depended on the answer key, an
agent could learn the answers of earlier questions (bear-lh-v2 as first shipped had
``info["ground_truth"]`` public: given it, a text model reached 0.38 on next action).

:func:`public_info_key` plays each sampled episode twice with the same unparseable answer (so
the reward and ``correct`` are 0 both times): once as it is, once with every answer key changed
(:func:`perturb_key`: each letter moved to the next one, each point / box target replaced by a
different fixed box). Every observation and every public ``info`` value must be the same in both
plays; the figure is the number of keys (``obs.KEY`` / ``info.KEY``) that differed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..envs.common import PRIVILEGED
from ..episodes.spec import Episode
from ..rewards.bear import LETTERS, answer_kind
from .registry import AuditContext, Figure, register

#: episodes played per audited split (each twice, at a small render size)
INFO_EPISODES = 4
#: an answer no scorer reads: the reward is 0 whatever the key
BLANK = ""


def perturb_key(episode: Episode) -> Episode:
    """A copy of ``episode`` whose every answer key differs and nothing else: letters move to
    the next letter; pointing and box questions lose their live target and get a fixed box
    (``[0, 0, 0.25, 0.25]``, or ``[0.75, 0.75, 1, 1]`` where that overlaps the stored one)."""
    out = copy.deepcopy(episode)
    for q in out.extra["bear"]["queries"]:
        kind = answer_kind(q["skill"])
        if kind == "choice":
            q["answer"] = LETTERS[(LETTERS.index(q["answer"]) + 1) % 4]
            continue
        box = q.get("box") or (q["answer"] if kind == "box" else [q["answer"][0], q["answer"][1]] * 2)
        new = [0.0, 0.0, 0.25, 0.25] if min(box[0], box[1]) > 0.25 else [0.75, 0.75, 1.0, 1.0]
        q["target"], q["box"], q["mask"] = None, new, None
        q["answer"] = new if kind == "box" else [(new[0] + new[2]) / 2, (new[1] + new[3]) / 2]
    return out


def _play(episode: Episode, ctx: AuditContext) -> list[dict[str, Any]]:
    """Observation and public info of every step of ``episode``, answering :data:`BLANK`."""
    from ..envs.bear import BearLongHorizonEnv

    env = BearLongHorizonEnv(episodes=[episode], backend=episode.backend, width=64, height=48, history_frames=2)
    try:
        obs, info = env.reset(seed=0)
        seen = [{**{f"obs.{k}": v for k, v in obs.items()}, **{f"reset.{k}": v for k, v in info.items()}}]
        done = False
        while not done:
            obs, reward, done, _, info = env.step(BLANK)
            public = {f"info.{k}": v for k, v in info.items() if k != PRIVILEGED}
            seen.append({**{f"obs.{k}": v for k, v in obs.items()}, **public, "reward": reward})
        return seen
    finally:
        env.close()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def key_dependent_keys(episode: Episode, ctx: AuditContext) -> set[str]:
    """The observation / public info keys of ``episode`` that change when its answer key does."""
    a, b = _play(episode, ctx), _play(perturb_key(episode), ctx)
    out = set()
    for sa, sb in zip(a, b, strict=True):
        out |= {k for k in set(sa) | set(sb) if k not in sa or k not in sb or not _same(sa[k], sb[k])}
    return out


@register("bear", "public_info_key",
          "nothing an agent reads (observations, info outside info['privileged']) changes when the answer key "
          f"does: {INFO_EPISODES} episodes played twice with the same blank answers, the key changed in the "
          "second play; the score is the number of keys that differed", renders=True, fits=False)
def public_info_key(target: Sequence[Episode], fit: Sequence[Episode], ctx: AuditContext) -> dict[str, Figure]:
    sample = list(target)[: int(ctx.extra.get("info_episodes", INFO_EPISODES))]
    keys: set[str] = set()
    for ep in sample:
        keys |= key_dependent_keys(ep, ctx)
    return {"all": Figure(float(len(keys)), len(sample), 0.0, None, ", ".join(sorted(keys)) or "none")}
