"""Suite-level pass over a generated split: what one episode at a time cannot guarantee.

Object localization answers are skewed (objects lie on the floor far more often than on any one
piece of furniture), and no choice of distractors can hide a truth that holds half the answers:
given a set that contains "floor", "floor" would then be right more often than a quarter of the
time. :func:`balance_localization` therefore drops localization questions of over-represented
surfaces until no surface holds more than :data:`MAX_SURFACE_SHARE` of the split's answers, and
redraws every distractor from the final distribution of correct surfaces (conditioned on being
distinct, never the truth and never a surface the instruction names), so that
truth and distractors follow one distribution.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ...rewards.bear import NONE_OF_THE_ABOVE
from ..spec import Episode

#: the largest share of a split's localization answers one surface may hold
MAX_SURFACE_SHARE = 0.15


def _surface(text: str) -> str:
    return text[len("on the "):] if text.startswith("on the ") else text


def balance_localization(episodes: list[Episode], rng: random.Random, *, min_queries: int = 8) -> None:
    """Drop and redraw in place (see the module docstring); an episode keeps at least
    ``min_queries`` questions (its localization question is then kept)."""
    found: list[tuple[Episode, dict[str, Any]]] = [
        (ep, q) for ep in episodes for q in ep.extra["bear"]["queries"] if q["skill"] == "object_localization"]
    counts = Counter(_surface(q["truth"]) for _, q in found)
    order = list(range(len(found)))
    rng.shuffle(order)
    dropped: set[int] = set()
    while counts and max(counts.values()) > MAX_SURFACE_SHARE * sum(counts.values()) + 1e-9:
        top = max(sorted(counts), key=counts.__getitem__)
        victim = next((i for i in order if i not in dropped and _surface(found[i][1]["truth"]) == top
                       and len(found[i][0].extra["bear"]["queries"]) > min_queries), None)
        if victim is None:
            break
        dropped.add(victim)
        ep, q = found[victim]
        ep.extra["bear"]["queries"].remove(q)
        counts[top] -= 1
    pool = [s for s, n in sorted(counts.items()) for _ in range(n)]
    for i, (ep, q) in enumerate(found):
        if i in dropped:
            continue
        truth = _surface(q["truth"])
        instruction = f" {ep.instruction.lower()} "
        named = {s for s in counts if f" {s} " in instruction or f" {s}." in instruction}
        letters = [k for k, v in sorted(q["options"].items()) if v != NONE_OF_THE_ABOVE and _surface(v) != truth]
        if len({s for s in pool if s != truth and s not in named}) < len(letters):
            continue  # too few surfaces to redraw from: the question keeps its options
        picked: list[str] = []
        while len(picked) < len(letters):
            s = pool[rng.randrange(len(pool))]
            if s != truth and s not in named and s not in picked:
                picked.append(s)
        for k, s in zip(letters, picked, strict=True):
            q["options"][k] = f"on the {s}"


def balance_directions(episodes: list[Episode], rng: random.Random, *, min_queries: int = 8, slack: int = 1) -> None:
    """Relative direction: where a question sits in its episode (early questions are asked on
    the first leg, where the goal was just seen ahead) must not tell its sector. Per fifth of the
    episode, questions of a sector more than ``slack`` above that fifth's rarest sector are dropped
    (at random, keeping ``min_queries`` per episode), so sectors are uniform at every position."""
    from .options import DIRECTIONS

    by_bucket: dict[int, list[tuple[Episode, dict[str, Any]]]] = {}
    for ep in episodes:
        queries = ep.extra["bear"]["queries"]
        for i, q in enumerate(queries):
            if q["skill"] == "relative_direction":
                bucket = min(4, int(i / max(len(queries) - 1, 1) * 5))
                by_bucket.setdefault(bucket, []).append((ep, q))
    for bucket in sorted(by_bucket):
        items = by_bucket[bucket]
        rng.shuffle(items)
        counts = Counter(q["truth"] for _, q in items)
        floor = min(counts.get(d, 0) for d in DIRECTIONS)
        for ep, q in items:
            if counts[q["truth"]] > floor + slack and len(ep.extra["bear"]["queries"]) > min_queries:
                ep.extra["bear"]["queries"].remove(q)
                counts[q["truth"]] -= 1
