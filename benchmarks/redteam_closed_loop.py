"""The closed-loop half of ``redteam_blind.py`` (see its docstring for what each attack is):
fixed non-visual policies rolled out in ``EmbodiedTask-v0``. Run it through ``redteam_blind.py house``."""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import gymnasium as gym
import numpy as np

import embodied_gym  # noqa: F401  (registers the envs)

SPLITS = ("test", "ood")


def suite_ref(suite: str, split: str) -> str:
    """``SUITE:SPLIT``, or ``DIR/SPLIT.jsonl`` when ``suite`` is a folder of split files."""
    return os.path.join(suite, f"{split}.jsonl") if os.path.isdir(suite) else f"{suite}:{split}"



F, B, L, R = "MoveForward", "MoveBackward", "TurnLeft", "TurnRight"


def sequences(max_steps: int) -> dict[str, list[str]]:
    """Fixed action sequences (one rollout scores every prefix + Finish)."""
    seqs: dict[str, list[str]] = {}
    for k in range(0, 12):  # a turn is 30 degrees: left k == right 12 - k
        seqs[f"right{k}_forward"] = [R] * k + [F] * max_steps
    seqs["zigzag_l"] = ([F] * 3 + [L, L] + [F] * 3 + [R, R]) * max_steps
    seqs["zigzag_r"] = ([F] * 3 + [R, R] + [F] * 3 + [L, L]) * max_steps
    seqs["spin_forward"] = ([F] * 4 + [R] * 3) * max_steps
    seqs["back_forward"] = [B] * 3 + [F] * max_steps
    for name, extra in (("open", ["OpenDoor"]), ("pick", ["LookDown", "LookDown", "PickObject", "LookUp", "LookUp"]),
                        ("drop", ["DropObject"])):
        seqs[f"forward_{name}"] = ([F] * 2 + extra) * max_steps
    for seed in range(3):
        seqs[f"random_seq{seed}"] = list(np.random.default_rng(100 + seed).choice([F, F, F, L, R], max_steps))
    return {k: [str(a) for a in v[:max_steps]] for k, v in seqs.items()}


#: fixed sequences are scored for every Finish time up to this many steps
PREFIX_MAX = 40
#: feedback-driven walkers are scored for every Finish time up to this many steps
HORIZON_MAX = 160


class Walker:
    """A feedback-driven non-visual policy: ``act(feedback, step)`` -> action name. Moves on even
    steps (``bump_*``: forward until a move is refused, then three 30-degree turns; ``random``:
    forward 3:1 turns), tries the ``interact`` actions on odd steps; with ``finish_on`` it calls
    ``Finish`` once that action's feedback says it succeeded (``PickObject`` then ``DropObject``
    when both are listed), else ``Finish`` on the last step."""

    def __init__(self, kind: str, seed: int = 0, interact: tuple[str, ...] = (), finish_on: str | None = None,
                 max_steps: int = 64):
        self.kind, self.rng, self.interact, self.finish_on = kind, np.random.default_rng(seed), interact, finish_on
        self.max_steps, self.last, self.turns, self.move_failed = max_steps, None, 0, False

    def act(self, feedback: str, step: int) -> str:
        if self.last in (F, B):
            self.move_failed = "failed" in feedback
        if self.finish_on and self.last == self.finish_on and "succeeded" in feedback:
            if self.finish_on == "PickObject" and "DropObject" in self.interact:
                self.finish_on, self.interact = "DropObject", ("DropObject",)
            else:
                return "Finish"
        if step >= self.max_steps - 1 and self.finish_on is None:
            return "Finish"
        if self.interact and step % 2 == 1:
            a = self.interact[(step // 2) % len(self.interact)]
        elif self.kind == "bump_right" or self.kind == "bump_left":
            blocked, self.move_failed = self.move_failed, False
            a = (R if self.kind == "bump_right" else L) if blocked or 0 < self.turns < 3 else F
            self.turns = self.turns + 1 if a in (L, R) else 0
        else:  # random
            a = self.rng.choice([F, F, F, L, R])
        self.last = a
        return a


def rollout_prefix(env: Any, seed: int, policy: Any, horizon: int) -> np.ndarray:
    """``ok[t]`` for ``t <= horizon``: whether the policy's first ``t`` actions then ``Finish``
    succeed. ``policy`` is a fixed action list or a :class:`Walker` without ``finish_on`` (its
    actions never depend on when it will finish). The *evaluator* reads the privileged
    ``finish_would_succeed`` to score every ``t`` in one rollout; the policy never sees it."""
    obs, info = env.reset(seed=seed)
    ok = [bool(info["privileged"]["finish_would_succeed"])]
    for t in range(horizon):
        a = policy[t] if isinstance(policy, list) else policy.act(str(obs["feedback"]), t)
        if a == "Finish":
            break
        obs, _, term, trunc, info = env.step(a)
        if term or trunc:
            break
        ok.append(bool(info["privileged"]["finish_would_succeed"]))
    return np.asarray(ok + [False] * (horizon + 1 - len(ok)), bool)


def rollout_walker(env: Any, seed: int, walker: Walker) -> bool:
    obs, info = env.reset(seed=seed)
    step = 0
    while True:
        obs, _, term, trunc, info = env.step(walker.act(str(obs["feedback"]), step))
        step += 1
        if term or trunc:
            return bool(info.get("success"))


def walkers(max_steps: int) -> dict[str, Walker]:
    w: dict[str, Walker] = {}
    for kind in ("bump_right", "bump_left", "random"):
        for seed in (range(3) if kind == "random" else [0]):
            tag = f"{kind}{seed if kind == 'random' else ''}"
            w[f"{tag}_open_until_opened"] = Walker(kind, seed, ("OpenDoor",), "OpenDoor", max_steps)
            w[f"{tag}_pick_then_drop"] = Walker(kind, seed, ("PickObject", "DropObject"), "PickObject", max_steps)
    return w


def prefix_walkers(max_steps: int) -> dict[str, Walker]:
    """Feedback-driven walkers scored at every Finish time (they never Finish themselves)."""
    w = {}
    for kind in ("bump_right", "bump_left"):
        w[f"{kind}_walk"] = Walker(kind, 0, (), None, max_steps + 1)
        w[f"{kind}_opendoor"] = Walker(kind, 0, ("OpenDoor",), None, max_steps + 1)
        w[f"{kind}_pickdrop"] = Walker(kind, 0, ("PickObject", "DropObject"), None, max_steps + 1)
    return w


def house_split(suite: str, split: str, per_category: int) -> dict[str, Any]:
    env = gym.make("EmbodiedTask-v0", episodes=suite_ref(suite, split), width=64, height=48)
    eps = env.unwrapped.episodes
    chosen: dict[str, list[int]] = defaultdict(list)
    for i, ep in enumerate(eps):
        if len(chosen[ep.category]) < per_category:
            chosen[ep.category].append(i)
    res: dict[str, Any] = {}
    for cat, ids in chosen.items():
        prefix: dict[str, list[np.ndarray]] = defaultdict(list)
        walk: dict[str, list[bool]] = defaultdict(list)
        horizon = 0
        for i in ids:
            ms = eps[i].max_steps
            horizon = max(horizon, ms)
            for name, seq in sequences(min(ms - 1, PREFIX_MAX)).items():
                ok = rollout_prefix(env, i, seq, len(seq))
                prefix[name].append(np.pad(ok, (0, HORIZON_MAX + 1 - len(ok))))
            for name, wk in prefix_walkers(ms).items():
                ok = rollout_prefix(env, i, wk, min(ms - 1, HORIZON_MAX))
                prefix[name].append(np.pad(ok, (0, HORIZON_MAX + 1 - len(ok))))
            for name, wk in walkers(ms).items():
                walk[name].append(rollout_walker(env, i, wk))
        res[cat] = {"n": len(ids), "prefix": {k: np.mean(v, 0) for k, v in prefix.items()},
                    "walk": {k: float(np.mean(v)) for k, v in walk.items()}}
    env.close()
    return res


def verify_prefix(suite: str, split: str, n: int = 6) -> int:
    """Mismatches between the evaluator's ``finish_would_succeed`` prefix scoring and real
    rollouts that call ``Finish`` after ``t`` steps (forward walks and a bump walker)."""
    env = gym.make("EmbodiedTask-v0", episodes=suite_ref(suite, split), width=64, height=48)
    bad = 0
    for i in range(0, len(env.unwrapped.episodes), max(1, len(env.unwrapped.episodes) // n)):
        ms = env.unwrapped.episodes[i].max_steps
        for make in (lambda ms=ms: [F] * (ms - 1), lambda ms=ms: Walker("bump_right", 0, ("OpenDoor",), None, ms + 1)):
            ok = rollout_prefix(env, i, make(), ms - 1)
            for t in range(0, ms - 1, 3):
                policy = make()
                obs, _ = env.reset(seed=i)
                for s in range(t):
                    obs, *_ = env.step(policy[s] if isinstance(policy, list) else policy.act(str(obs["feedback"]), s))
                _, _, _, _, info = env.step("Finish")
                bad += int(bool(info.get("success")) != bool(ok[t]))
    env.close()
    return bad


def closed_loop_table(fit: dict[str, Any], score: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for cat, s in score.items():
        f = fit.get(cat)
        cands = {f"{k}@t={t}": v[t] for k, v in s["prefix"].items() for t in range(len(v))}
        cands.update(s["walk"])
        ins = max(cands, key=cands.get)
        row: dict[str, Any] = {"n": s["n"], "insplit": float(cands[ins]), "insplit_policy": ins}
        if f:
            fc = {f"{k}@t={t}": v[t] for k, v in f["prefix"].items() for t in range(len(v))}
            fc.update(f["walk"])
            best = max(fc, key=fc.get)
            row["fitted"], row["fitted_policy"] = float(cands.get(best, 0.0)), best
            row["fitted_on_other_split"] = float(fc[best])
        fwd = s["prefix"]["right0_forward"]
        row["forward_then_finish_best"] = float(fwd.max())
        row["forward_then_finish_t"] = int(fwd.argmax())
        out[cat] = row
    return out


def _timed_split(suite: str, split: str, per_category: int) -> dict[str, Any]:
    t = time.time()
    out = house_split(suite, split, per_category)
    print(f"rolled out {suite}:{split} in {time.time() - t:.0f}s", file=sys.stderr)
    return out


def run_house(suite: str, per_category: int, verify: bool, jobs: int = 1) -> dict[str, Any]:
    """Both splits' rollouts (``jobs=2``: the two splits in two processes), then the tables."""
    if jobs > 1:
        with ProcessPoolExecutor(min(jobs, len(SPLITS))) as pool:
            futures = {split: pool.submit(_timed_split, suite, split, per_category) for split in SPLITS}
            data = {split: f.result() for split, f in futures.items()}
    else:
        data = {split: _timed_split(suite, split, per_category) for split in SPLITS}
    result: dict[str, Any] = {"suite": suite, "per_category": per_category}
    if verify:
        result["prefix_verify_mismatches"] = verify_prefix(suite, "test")
    for split in SPLITS:
        result[split] = closed_loop_table(data[SPLITS[1 - SPLITS.index(split)]], data[split])
    return result


