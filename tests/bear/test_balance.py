"""The split-level pass of bear-lh-v2 (episodes/bear/balance.py) on synthetic episodes: after
it, every localization distractor is named by what the episode said before the question
exactly as often as the truth is, and no surface holds more than its share of the answers."""

from __future__ import annotations

import random
from collections import Counter

from embodied_gym.episodes.bear.balance import (
    MAX_SURFACE_SHARE,
    balance_localization,
    context_words,
    mention_count,
)
from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.rewards.bear import NONE_OF_THE_ABOVE
from embodied_gym.sims.base import Pose

SURFACES = ["floor", "shelf", "table", "sofa", "desk", "bed", "chair", "counter", "crate", "cabinet", "barrel"]


def _episode(i: int, rng: random.Random) -> Episode:
    truth = SURFACES[i % len(SURFACES)]
    # an earlier route passes the truth in a third of the episodes, a random surface otherwise
    passed = truth if i % 3 == 0 else rng.choice(SURFACES)
    filler = [{"skill": "next_action_prediction", "step": 0, "question": "What next?",
               "options": dict(zip("ABCD", ["go to the door", "open the door", "pick up the cup", "put it down"], strict=True)),
               "answer": "A"} for _ in range(8)]
    route = {"skill": "path_planning", "step": 0, "question": "Which route leads to the bed?",
             "options": {k: f"turn {k}, pass the {passed}, stop at the bed" for k in "ABCD"}, "answer": "B"}
    nota = i % 4 == 0
    opts = {"A": f"on the {truth}", "B": "on the floor" if truth != "floor" else "on the desk", "C": "on the shelf",
            "D": NONE_OF_THE_ABOVE if nota else "on the table"}
    loc = {"skill": "object_localization", "step": 1, "question": "Where was the cup when you first saw it?",
           "options": opts, "answer": "A", "truth": f"on the {truth}"}
    return Episode(id=f"b-{i:03d}", backend="house", scene={"seed": i}, start_pose=Pose(0, 0, 0, 0, 0),
                   instruction="Bring the cup to the bed.", category="pick_drop", subgoals=[Subgoal("pick", target=1)],
                   extra={"bear": {"queries": [route, loc, *filler]}})


def test_distractors_are_named_before_the_question_as_often_as_the_truth():
    rng = random.Random(0)
    eps = [_episode(i, rng) for i in range(120)]
    balance_localization(eps, random.Random(1))
    kept = 0
    answers = Counter()
    for ep in eps:
        queries = ep.extra["bear"]["queries"]
        for i, q in enumerate(queries):
            if q["skill"] != "object_localization":
                continue
            kept += 1
            answers[q["truth"]] += 1
            ctx = context_words(ep, i)
            level = mention_count(q["truth"], ctx)
            shown = [v for v in q["options"].values() if v != NONE_OF_THE_ABOVE]
            assert len(set(shown)) == len(shown)
            assert all(mention_count(v, ctx) == level for v in shown), (q["truth"], q["options"], level)
    assert 40 <= kept < 120  # some whose truth the route named had no partners and were dropped
    assert max(answers.values()) <= MAX_SURFACE_SHARE * kept + 1


def test_mention_count_ignores_the_filler_words():
    ctx = {"on", "the", "sofa", "pass"}
    assert mention_count("on the sofa", ctx) == 1 and mention_count("on the table", ctx) == 0
