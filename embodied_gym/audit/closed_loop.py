"""The closed-loop audit: can a fixed non-visual walking policy succeed on a suite?

:func:`audit_closed_loop` rolls out every walker of :mod:`embodied_gym.episodes.walker_family`'s
:func:`default_walkers` (policies that never see a
frame) through the public Gymnasium interface of
:class:`~embodied_gym.envs.closed_loop.ClosedLoopEnv` and scores, per task category, the policy
"walk ``N`` actions with walker ``W``, then ``Finish``" for every ``N`` within the episode's step
budget. A walker's actions do not depend on ``N``, so one rollout scores every ``N``: after each
action the audit (not the walker) reads ``info["privileged"]["finish_would_succeed"]``, which is
exactly whether a ``Finish`` at that point would succeed (``Finish`` changes nothing else). A
category *fails* when its best (walker, ``N``) succeeds on more than ``limit`` of its episodes;
taking the best of several hundred policies makes the check conservative.

Also checked: nothing public in ``info`` other than the result of the agent's own action changes
within an episode (task progress lives only under ``info["privileged"]``).

Cost: walkers that freeze once blocked are cheap; those that walk the whole budget (wall
following with probe periods 2-6, fixed-turn bump walkers, random walks) cost about 2 ms a step.
By default every walker runs on every episode (about 20 minutes of one core for a split of 40
episodes per category); ``sample_long`` restricts the long ones to a seeded sample per category
(the result says how many). Interaction walkers (OpenDoor / PickObject /
DropObject) run only on episodes with interaction subgoals, and walkers that never interact not on
episodes all of whose subgoals are interactions (:func:`runs_on`: they cannot succeed there). Frames are rendered at the
config's size (walkers never look; ``OpenDoor``/``PickObject`` need the target in view, which is
tested at that size).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..episodes.spec import Episode, load_episodes
from ..episodes.walker_family import default_walkers
from ..episodes.walkers import OWN_RESULT_KEYS, Walker
from .registry import AuditContext, Figure, register

INTERACTION_SUBGOALS = frozenset({"open", "pick", "place"})


@dataclass
class ClosedLoopAuditConfig:
    """How the closed-loop audit runs."""

    #: a category fails when some fixed walking policy succeeds on more than this share
    limit: float = 0.10
    #: categories with fewer audited episodes are reported ("too few episodes") but cannot fail
    min_n: int = 20
    #: episodes per category for the long walkers (``None``: every episode)
    sample_long: int | None = None
    #: episodes per category for the short walkers (``None``: every episode)
    sample_short: int | None = None
    #: render size of the audit's environment (the walkers never look; OpenDoor and PickObject
    #: need their object in view, which is tested at this size)
    width: int = 96
    height: int = 72
    #: seeds the episode samples
    seed: int = 0


def _sample(eps: list[Episode], k: int | None, seed: int, tag: str) -> list[Episode]:
    if k is None or k >= len(eps):
        return list(eps)
    return sorted(random.Random(f"{seed}/{tag}").sample(eps, k), key=lambda e: e.id)


def _interactive(ep: Episode) -> bool:
    return any(sg.type in INTERACTION_SUBGOALS for sg in ep.subgoals)


def runs_on(walker: Walker, ep: Episode) -> bool:
    """Whether the audit rolls ``walker`` out on ``ep``: interaction walkers only where some
    subgoal is an interaction; walkers that never interact not where every subgoal is one (they
    cannot succeed there: nothing but OpenDoor / PickObject / DropObject meets such a subgoal)."""
    if walker.interacts:
        return _interactive(ep)
    return not ep.subgoals or not all(sg.type in INTERACTION_SUBGOALS for sg in ep.subgoals)


def rollout(env, ep: Episode, walker: Walker, varying: set[str]) -> list[bool] | bool:
    """One rollout of ``walker``: for a prefix walker, ``succ`` with ``succ[N]`` = whether
    ``Finish`` after its first ``N`` actions succeeds, for ``N`` = 0 .. ``max_steps - 1``
    (carried forward once the walker froze); for a self-finishing walker, its success."""
    _, info = env.reset(options={"episode_id": ep.id})
    walker.reset(ep.instruction, zlib.crc32(ep.id.encode()))  # seeded by the episode, not its position
    succ = [bool(info["privileged"]["finish_would_succeed"])]
    ok, feedback, public, last = True, "", {}, None
    horizon = ep.max_steps - 1
    while len(succ) <= horizon:
        action = walker.act(ok, feedback, public)
        if action is None:
            break
        _, _, terminated, truncated, info = env.step(action)
        if action == "Finish":
            return bool(info["success"])
        public = {k: v for k, v in info.items() if k not in ("privileged", "episode_result")}
        watched = {k: v for k, v in public.items() if k not in OWN_RESULT_KEYS}
        if last is not None:
            varying.update(k for k in watched if watched[k] != last.get(k))
        last = watched
        ok, feedback = bool(info["action_success"]), str(info["feedback"])
        succ.append(bool(info["privileged"]["finish_would_succeed"]))
        if terminated or truncated:
            break
    if walker.self_finishing:
        return False  # it never finished within the budget
    succ += [succ[-1]] * (horizon + 1 - len(succ))
    return succ


def audit_closed_loop(
    episodes: str | Sequence[Episode],
    config: ClosedLoopAuditConfig | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the walkers on ``episodes`` (a ref or a list) and return a JSON-serialisable report:
    ``{"limit", "config", "walkers", "by_category": {cat: {"n", "n_long", "best": {"policy",
    "walker", "finish_after", "success", "successes", "n"}, "top": [...], "by_walker": {walker:
    best success over N}, "verdict"}},
    "public_info": {"varying_keys", "pass"}, "pass"}``. A category's verdict is ``"fail"`` when
    its best policy is over ``limit``, ``"too few episodes"`` (never a failure) when fewer than
    ``min_n`` episodes were audited and the best policy is over the limit, else ``"pass"``."""
    from ..envs.closed_loop import ClosedLoopEnv

    cfg = config or ClosedLoopAuditConfig()
    eps = load_episodes(episodes)
    walkers = default_walkers()
    env = ClosedLoopEnv(episodes=eps, backend=eps[0].backend if eps else "house", width=cfg.width, height=cfg.height)
    by_cat: dict[str, list[Episode]] = {}
    for e in eps:
        by_cat.setdefault(e.category, []).append(e)
    varying: set[str] = set()
    report: dict[str, Any] = {}
    try:
        for cat, group in sorted(by_cat.items()):
            # walker name -> successes per N (prefix walkers) or in total (self-finishing walkers)
            tallies: dict[str, list[int]] = {}
            counts: dict[str, int] = {}
            n_long = 0
            for kind, k in (("short", cfg.sample_short), ("long", cfg.sample_long)):
                chosen = _sample(group, k, cfg.seed, f"{cat}/{kind}")
                n_long = len(chosen) if kind == "long" else n_long
                for ep in chosen:
                    for w in walkers[kind]:
                        if not runs_on(w, ep):
                            continue
                        res = rollout(env, ep, w, varying)
                        counts[w.name] = counts.get(w.name, 0) + 1
                        if isinstance(res, bool):
                            tallies.setdefault(w.name, [0])[0] += int(res)
                            continue
                        tally = tallies.setdefault(w.name, [])
                        tally.extend([0] * (len(res) - len(tally)))
                        for n, s in enumerate(res):
                            tally[n] += int(s)
                if progress:
                    progress(f"{cat}: {kind} walkers on {len(chosen)} episodes")
            report[cat] = _summarise(group, tallies, counts, n_long, walkers, cfg)
    finally:
        env.close()
    public_ok = not varying
    return {
        "pass": public_ok and all(r["verdict"] != "fail" for r in report.values()),
        "limit": cfg.limit,
        "config": asdict(cfg),
        "walkers": sorted(w.name for ws in walkers.values() for w in ws),
        "by_category": report,
        "public_info": {"varying_keys": sorted(varying), "pass": public_ok},
    }


def _summarise(group, tallies, counts, n_long, walkers, cfg) -> dict[str, Any]:
    self_finishing = {w.name for ws in walkers.values() for w in ws if w.self_finishing}
    rows = []
    for name, tally in tallies.items():
        n = counts[name]
        for after, s in enumerate(tally):
            label = name if name in self_finishing else f"{name}, Finish after {after}"
            rows.append({"policy": label, "walker": name, "finish_after": None if name in self_finishing else after,
                         "success": round(s / n, 4), "successes": s, "n": n})
    rows.sort(key=lambda r: (-r["success"], r["policy"]))
    best = rows[0] if rows else None
    over = best is not None and best["success"] > cfg.limit
    few = not counts or min(counts.values()) < cfg.min_n
    verdict = ("too few episodes" if few else "fail") if over else "pass"
    by_walker: dict[str, float] = {}
    for r in rows:
        by_walker[r["walker"]] = max(by_walker.get(r["walker"], 0.0), r["success"])
    return {"n": len(group), "n_long": n_long, "best": best, "top": rows[:5], "by_walker": dict(sorted(by_walker.items())),
            "verdict": verdict}


# ---------------------------------------------------------------------------------------------
# the registered checks (``egym audit`` on a closed-loop suite)

_MEMO: dict[tuple, dict[str, Any]] = {}


def _walked(target: Sequence[Episode], ctx: AuditContext) -> dict[str, Any]:
    """:func:`audit_closed_loop` on ``target`` with the config in ``ctx.extra["closed_loop"]``,
    computed once for both checks."""
    cfg = ClosedLoopAuditConfig(**dict(ctx.extra.get("closed_loop", {})))
    key = (tuple(e.id for e in target), tuple(sorted(asdict(cfg).items())))
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = audit_closed_loop(list(target), cfg, ctx.extra.get("progress"))
    return _MEMO[key]


@register("closed_loop", "walking_policies",
          "fixed non-visual walking policies (spin-and-go, L-walks, left/right-keyed turns, wall following with "
          "probe periods 2-6 and OpenDoor/Pick/Drop, forward-until-blocked-then-turn-j, random walks, signal-stop), "
          "each then Finish after N actions: best per category",
          renders=True, fits=False)
def walking_policies(target: Sequence[Episode], fit: Sequence[Episode], ctx: AuditContext) -> dict[str, Figure]:
    out = {}
    for cat, r in _walked(target, ctx)["by_category"].items():
        best = r["best"]
        few = r["verdict"] == "too few episodes"
        note = f"best: {best['policy']} ({best['successes']}/{best['n']})" if best else "no policy ran"
        if r["n_long"] < r["n"]:
            note += f"; wall-following / random walkers on a sample of {r['n_long']} of {r['n']} episodes"
        if few:
            note += f"; too few episodes to judge (fewer than {ClosedLoopAuditConfig.min_n}): reported, not failed"
        out[cat] = Figure(best["success"] if best else 0.0, r["n"], 1.0 if few else _walked(target, ctx)["limit"],
                          None, note)
    return out


@register("closed_loop", "public_info",
          "nothing public in info changes with task progress before the episode ends (progress only under "
          "info['privileged']): the score is the number of public keys that did", renders=True, fits=False)
def public_info(target: Sequence[Episode], fit: Sequence[Episode], ctx: AuditContext) -> dict[str, Figure]:
    keys = _walked(target, ctx)["public_info"]["varying_keys"]
    return {"all": Figure(float(len(keys)), len(target), 0.0, None, ", ".join(keys) or "none")}
