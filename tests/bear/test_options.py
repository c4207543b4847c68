"""Pure pieces of the BEAR query builder: letter balance, option arrangement, directions,
history sampling, route wording and arrow geometry/drawing."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from embodied_gym.episodes.bear.arrows import (
    ARROW_COLORS,
    arrow_angle,
    arrow_to,
    draw_arrows,
    rotated_arrow,
    well_separated,
)
from embodied_gym.episodes.bear.grounding import interior_point, mask_box
from embodied_gym.episodes.bear.language import mirror_route
from embodied_gym.episodes.bear.options import (
    DIRECTIONS,
    LetterDeck,
    NotEnoughOptions,
    arrange_options,
    direction_distractors,
    direction_word,
    relative_angle,
    sample_history,
    sector_margin,
)
from embodied_gym.rewards.bear import NONE_OF_THE_ABOVE


def test_letter_deck_balances_each_skill_separately():
    deck = LetterDeck(random.Random(0))
    counts = {s: Counter(deck.deal(s) for _ in range(41)) for s in ("a", "b")}
    for c in counts.values():
        assert set(c) == {"A", "B", "C", "D"}
        assert max(c.values()) - min(c.values()) <= 1


def test_arrange_options_places_answer_and_none_of_the_above():
    rng = random.Random(1)
    seen_nota_answer = seen_nota_wrong = False
    for i in range(200):
        letter = "ABCD"[i % 4]
        opts, ans = arrange_options("right", ["left", "behind", "front", "left"], letter, rng)
        assert ans == letter and len(set(opts.values())) == 4
        if opts[ans] == NONE_OF_THE_ABOVE:
            seen_nota_answer = True
            assert "right" not in opts.values()
        else:
            assert opts[ans] == "right"
            seen_nota_wrong |= opts["D"] == NONE_OF_THE_ABOVE
    assert seen_nota_answer and seen_nota_wrong
    with pytest.raises(NotEnoughOptions):
        arrange_options("x", ["y", "Y", "x"], "A", rng)


@pytest.mark.parametrize(
    "target, word",
    [((1, 0), "front"), ((0, -1), "left"), ((0, 1), "right"), ((-1, 0), "behind"), ((1, -1), "front-left"),
     ((-1, 1), "behind-right")],
)
def test_relative_direction_follows_the_yaw_convention(target, word):
    """Yaw 0 faces +x; counter-clockwise seen from above (towards -z) is the agent's left."""
    assert direction_word(relative_angle((0, 0), 0.0, target)) == word


def test_direction_distractors_are_mirrored_opposite_and_distinct():
    for w in DIRECTIONS:
        d = direction_distractors(w)
        assert w not in d and len(set(d)) == len(d) >= 3
    assert direction_distractors("front-left")[:2] == ["front-right", "behind-right"]
    assert sector_margin(22.0) == pytest.approx(0.5)


def test_sample_history_is_uniform_with_first_and_last():
    """Always n frames, first and last included; a short history repeats frames, so the number of
    frames shown never tells how far the episode has gone."""
    assert sample_history(0) == [0] * 16
    short = sample_history(5, 16)
    assert len(short) == 16 and short[0] == 0 and short[-1] == 5 and set(short) == set(range(6))
    assert short == sorted(short)
    assert sample_history(-1) == [] and sample_history(5, 0) == []
    idx = sample_history(100, 16)
    assert len(idx) == 16 and idx[0] == 0 and idx[-1] == 100 and idx == sorted(set(idx))
    gaps = np.diff(idx)
    assert gaps.max() - gaps.min() <= 1
    assert sample_history(40, 1) == [40]


def test_mirror_route_swaps_turns():
    assert mirror_route(["turn left", "pass the sofa", "turn right"]) == ["turn right", "pass the sofa", "turn left"]


def test_arrows_geometry_and_drawing():
    good = arrow_to((0.8, 0.3))
    assert 0 < arrow_angle(*good) < 90
    turned = rotated_arrow(good, 90)
    assert abs(arrow_angle(*turned) - arrow_angle(*good) - 90) < 1.0
    assert well_separated([good, turned])
    assert not well_separated([good, rotated_arrow(good, 10)])
    img = np.zeros((48, 64, 3), np.uint8)
    drawn = draw_arrows(img, [good, turned, arrow_to((0.1, 0.2))])
    assert drawn.shape == img.shape and img.sum() == 0
    for rgb in [(235, 30, 30), (20, 210, 60), (40, 90, 255)]:
        assert (drawn == rgb).all(-1).any()
    assert len(ARROW_COLORS) == 3


def test_mask_box_and_interior_point_land_on_the_mask():
    mask = np.zeros((10, 20), bool)
    mask[2:6, 4:9] = True
    mask[8, 15] = True
    assert mask_box(mask) == [0.2, 0.2, 0.8, 0.9]
    x, y = interior_point(mask)
    assert mask[int(y * 10), int(x * 20)]
    ring = np.zeros((30, 30), bool)
    ring[5:25, 5:25] = True
    ring[10:20, 10:20] = False
    x, y = interior_point(ring)
    assert ring[int(y * 30), int(x * 30)]
    assert interior_point(np.zeros((3, 3), bool)) is None
