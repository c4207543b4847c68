"""Closed-loop red team: the broad walker family of ``embodied_gym.audit.walker_family`` on EVERY
episode of a house suite's ``test`` and ``ood`` splits, each walker scored at every Finish time.

Two phases, so the expensive one can run split by split (one process each) and resume:

    # roll out (appends one JSON line per episode to OUT/SPLIT.jsonl; episodes already there are skipped)
    PYTHONPATH=$PWD python benchmarks/redteam_walkers.py roll --suite house-v2 --split test --out /tmp/rtw
    PYTHONPATH=$PWD python benchmarks/redteam_walkers.py roll --suite house-v2 --split ood  --out /tmp/rtw
    # tables: per category, cross-split fitted and in-split max (Markdown, or --json)
    PYTHONPATH=$PWD python benchmarks/redteam_walkers.py report --out /tmp/rtw

A *policy* is (walker, N): "walk N actions with the walker, then Finish". The evaluator (never
the walker) reads ``info["privileged"]["finish_would_succeed"]`` after every action, which is
exactly whether Finish at that point would succeed, so one rollout scores every N
(:func:`embodied_gym.audit.closed_loop.rollout`). ``fitted``: the policy with the best success on
the other split, scored on this one (what a reviewer who tunes a blind walker on one split gets
on the other); ``insplit``: the best policy chosen on the scored split itself (a max over
~75 walkers x ~100 Finish times: an optimistic upper bound, pure selection noise included);
``held-out insplit``: the same over the walkers the generators do NOT keep targets away from
(everything but ``clearance_walkers()``: spirals, zig-zags, turned starts, door / pick-drop
spamming, random walks, wall following with OpenDoor; for ``basic`` the 4-step zig-zags of
``drift_walkers()`` are excluded too, since basic targets are kept away from them after their
first refused move -- the 3-, 5- and 6-step zig-zags stay held out); ``solved by any``: episodes
some policy solves. ``--heldout-only`` skips only ``clearance_walkers()`` in the roll, so the
drift walkers are still rolled on basic and count in ``fitted`` and ``insplit``.
Walkers run where the audit runs them (``runs_on``: interaction walkers only on episodes with
open / pick / place subgoals, the others not on episodes whose every subgoal is one).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from embodied_gym.audit.closed_loop import ClosedLoopAuditConfig, rollout, runs_on
from embodied_gym.episodes.spec import load_episodes
from embodied_gym.episodes.walker_family import clearance_walkers, drift_walkers, family

SPLITS = ("test", "ood")
#: the walkers house-v2's generators keep targets away from (the others are a held-out check)
CLEARANCE = frozenset(w.name for w in clearance_walkers())
#: per category, further walkers its generator keeps targets away from (not held out there)
CATEGORY_CLEARANCE = {"basic": frozenset(w.name for w in drift_walkers())}


def fitted_walkers(category: str) -> frozenset[str]:
    """Names of the walkers the generator of ``category`` keeps targets away from: the rest of
    :func:`family` is the held-out check."""
    return CLEARANCE | CATEGORY_CLEARANCE.get(category, frozenset())


def _ref(suite: str, split: str) -> str:
    return str(Path(suite) / f"{split}.jsonl") if Path(suite).is_dir() else f"{suite}:{split}"


def roll(suite: str, split: str, out: Path, categories: list[str] | None = None, heldout_only: bool = False) -> None:
    """Append ``{"id", "category", "max_steps", "walkers": {name: "0110..."}}`` per episode to
    ``out/split.jsonl`` (character ``N`` of a walker's string: Finish after ``N`` actions succeeds)."""
    from embodied_gym.envs.closed_loop import ClosedLoopEnv

    cfg = ClosedLoopAuditConfig()
    eps = [e for e in load_episodes(_ref(suite, split)) if categories is None or e.category in categories]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{split}.jsonl"
    done = {json.loads(line)["id"] for line in path.read_text().splitlines()} if path.exists() else set()
    env = ClosedLoopEnv(episodes=eps, backend=eps[0].backend, width=cfg.width, height=cfg.height)
    walkers = [w for w in family() if not (heldout_only and w.name in CLEARANCE)]
    varying, t0 = set(), time.time()
    try:
        with path.open("a") as fh:
            for i, ep in enumerate(eps):
                if ep.id in done:
                    continue
                res = {}
                for w in walkers:
                    if not runs_on(w, ep):
                        continue
                    res[w.name] = "".join("1" if s else "0" for s in rollout(env, ep, w, varying))
                fh.write(json.dumps({"id": ep.id, "category": ep.category, "max_steps": ep.max_steps,
                                     "walkers": res}) + "\n")
                fh.flush()
                print(f"{split} {i + 1}/{len(eps)} {ep.id} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    finally:
        env.close()
    if varying:
        print(f"WARNING: public info keys varied within an episode: {sorted(varying)}", file=sys.stderr)


def _load(out: Path, split: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{split}.jsonl").read_text().splitlines()]


def tallies(rows: list[dict]) -> dict[str, dict[tuple[str, int], list[str]]]:
    """category -> (walker, N) -> ids of the episodes that policy solves."""
    out: dict[str, dict[tuple[str, int], list[str]]] = {}
    for r in rows:
        cat = out.setdefault(r["category"], {})
        for name, bits in r["walkers"].items():
            for n, b in enumerate(bits):
                if b == "1":
                    cat.setdefault((name, n), []).append(r["id"])
    return out


def table(out: Path) -> dict[str, dict[str, dict]]:
    rows = {s: _load(out, s) for s in SPLITS}
    counts = {s: {} for s in SPLITS}
    for s in SPLITS:
        for r in rows[s]:
            counts[s][r["category"]] = counts[s].get(r["category"], 0) + 1
    tal = {s: tallies(rows[s]) for s in SPLITS}
    result: dict[str, dict[str, dict]] = {}
    for s in SPLITS:
        other = SPLITS[1 - SPLITS.index(s)]
        for cat, n in sorted(counts[s].items()):
            here, there = tal[s].get(cat, {}), tal[other].get(cat, {})
            ins = max(here.items(), key=lambda kv: (len(kv[1]), kv[0]), default=(None, []))
            fit = max(there.items(), key=lambda kv: (len(kv[1]), kv[0]), default=(None, []))
            fitted_ids = here.get(fit[0], []) if fit[0] else []
            used = fitted_walkers(cat)
            held = {k: v for k, v in here.items() if k[0] not in used}
            held_best = max(held.items(), key=lambda kv: (len(kv[1]), kv[0]), default=(None, []))
            result.setdefault(s, {})[cat] = {
                "n": n,
                "insplit": round(len(ins[1]) / n, 4), "insplit_policy": _label(ins[0]), "insplit_ids": ins[1],
                "fitted": round(len(fitted_ids) / n, 4), "fitted_policy": _label(fit[0]),
                "fitted_on_other": round(len(fit[1]) / max(1, counts[other].get(cat, 1)), 4),
                "fitted_ids": fitted_ids,
                "solved_by_any": sorted({i for ids in here.values() for i in ids}),
                "heldout_insplit": round(len(held_best[1]) / n, 4), "heldout_policy": _label(held_best[0]),
            }
    return result


def _label(key) -> str:
    return "-" if key is None else f"{key[0]}, Finish after {key[1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("phase", choices=("roll", "report"))
    ap.add_argument("--suite", default="house-v2", help="a suite name or a folder with test.jsonl / ood.jsonl")
    ap.add_argument("--split", choices=SPLITS)
    ap.add_argument("--categories", nargs="*")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--heldout-only", action="store_true",
                    help="roll: skip the clearance walkers (the audit runs them on every episode)")
    args = ap.parse_args()
    if args.phase == "roll":
        for split in [args.split] if args.split else SPLITS:
            roll(args.suite, split, args.out, args.categories, args.heldout_only)
        return
    res = table(args.out)
    if args.json:
        print(json.dumps(res, indent=1))
        return
    print("| split | category | n | fitted | insplit | held-out insplit | solved by any | fitted policy (chosen on the "
          "other split) | in-split best |")
    print("|---|---|---:|---:|---:|---:|---:|---|---|")
    for s in SPLITS:
        for cat, r in res.get(s, {}).items():
            print(f"| {s} | {cat} | {r['n']} | {r['fitted']:.2f} | {r['insplit']:.2f} | {r['heldout_insplit']:.2f} | "
                  f"{len(r['solved_by_any'])} | {r['fitted_policy']} | {r['insplit_policy']} "
                  f"({len(r['insplit_ids'])}/{r['n']}) |")


if __name__ == "__main__":
    main()
