"""bear-lh-v2's suite-level spreading of answers, on synthetic inputs: route option sets chosen
so that the correct route's length rank stays at chance over a split, and pointing frames chosen
so that no fixed point lands on more than a capped share of a split's targets."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np

from embodied_gym.episodes.bear.grounding import POINT_COVER_CAP, POINT_COVER_FLOOR, _spread_pick
from embodied_gym.episodes.bear.language import mirror_route
from embodied_gym.episodes.bear.options import LetterDeck
from embodied_gym.episodes.bear.reasoning import _length_credits, _pick_balanced

CLAUSES = ["turn left", "turn right", "go through the doorway into the kitchen", "pass the sofa",
           "go through the doorway into the hall", "pass the table"]


def _ctx(seed: int) -> SimpleNamespace:
    rng = random.Random(seed)
    return SimpleNamespace(deck=LetterDeck(rng), rng=rng)


def _route(rng: random.Random, k: int) -> list[str]:
    return [*rng.sample(CLAUSES, k), "stop at the bed"]


def _candidates(rng: random.Random) -> list[tuple[int, str, list[str]]]:
    """Like real route questions: the correct route is a shortest path, so the other real routes
    into the room are mostly longer; only every other question also offers a set whose other
    route is shorter."""
    correct = _route(rng, 2)
    longer = _route(rng, 4)
    sets = [(0, ", ".join(correct), [", ".join(mirror_route(correct)), ", ".join(longer), ", ".join(mirror_route(longer))])]
    if rng.random() < 0.5:
        shorter = _route(rng, 1)
        sets.append((1, ", ".join(correct), [", ".join(mirror_route(correct)), ", ".join(shorter),
                                             ", ".join(mirror_route(shorter))]))
    return sets


def test_route_sets_keep_the_correct_routes_length_rank_at_chance():
    """"The shortest option" (by characters, clauses or turns), "the longest", the odd one out
    and the most central are each credited with about a quarter of the questions when the sets
    are chosen by ``_pick_balanced``; taking the first set (the old generator's habit) credits
    "the shortest" with far more."""
    rng, ctx = random.Random(0), _ctx(1)
    naive, balanced = np.zeros(8), np.zeros(8)
    n = 300
    for _ in range(n):
        sets = _candidates(rng)
        first = sets[0]
        naive += _length_credits(first[1], [first[1], *first[2]])
        chosen = _pick_balanced(ctx, sets)
        balanced += _length_credits(chosen[1], [chosen[1], *chosen[2]])
    assert naive[0] / n > 0.4 and naive[2] / n > 0.4  # shortest by characters / by clauses
    assert all(0.15 <= c / n <= 0.33 for c in balanced), balanced / n


def _frame(t: int, x: int, y: int, r: int, h: int = 120, w: int = 160) -> tuple[int, SimpleNamespace]:
    seg = np.zeros((h, w), np.int32)
    seg[max(0, y - r): y + r, max(0, x - r): x + r] = 7
    return t, SimpleNamespace(segmentation=seg)


def test_point_frames_keep_every_pixel_under_the_coverage_cap():
    """Each question can show its target at a hot spot (low in the middle, where big targets
    sit: one fixed point there hit 0.17 of bear-lh-v2's test spatial pointing) or at two other
    places: the chosen frames leave no pixel covered by more than the cap's share of the
    questions; a question that only has hot-spot frames is refused once the spot is full."""
    rng, ctx = random.Random(2), _ctx(3)
    for _ in range(200):
        frames = [_frame(0, 80, 90, 14)] + [_frame(i, rng.randrange(10, 150), rng.randrange(10, 110), rng.randrange(4, 14))
                                            for i in (1, 2)]
        assert _spread_pick(ctx, "point_spatial", frames, 7) is not None
    n, counts = ctx.deck.pools["cover/point_spatial"]
    assert n == 200 and counts.max() <= POINT_COVER_CAP * n
    hot = _ctx(4)
    picks = [_spread_pick(hot, "point_general", [_frame(0, 80, 90, 14)], 7) for _ in range(POINT_COVER_FLOOR + 3)]
    assert all(p is not None for p in picks[:POINT_COVER_FLOOR]) and all(p is None for p in picks[POINT_COVER_FLOOR:])
