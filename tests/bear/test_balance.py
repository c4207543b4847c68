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


def _episode(i: int, rng: random.Random, often: str | None = None) -> Episode:
    truth = SURFACES[i % len(SURFACES)]
    # an earlier route passes the truth in a third of the episodes, a random surface otherwise
    # (``often``, when given, in two thirds of those: a big piece of furniture routes pass)
    passed = truth if i % 3 == 0 else often if often and rng.random() < 2 / 3 else rng.choice(SURFACES)
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


# ---------------------------------------------------------------------------------------------
# relative direction: the sector must not depend on whom the question asks about

FRONT = ["front", "front-left", "front-right"]
BEHIND = ["behind", "behind-left", "behind-right"]


def _direction_episode(i: int, rng: random.Random, skew: float) -> Episode:
    """Eight planning fillers and two direction questions: one about the episode's object (the
    instruction names it), one about another thing. With probability ``skew`` the goal lies
    ahead and the other thing behind (as in bear-lh-v2 as regenerated at 17:57 UTC), else the
    sector is uniform."""
    from embodied_gym.episodes.bear.options import DIRECTIONS

    filler = [{"skill": "next_action_prediction", "step": 0, "question": "What next?",
               "options": dict(zip("ABCD", ["go to the duck", "pick up the duck", "go to the shelf", "put it down"],
                                   strict=True)), "answer": "ABCD"[rng.randrange(4)]} for _ in range(8)]
    qs = []
    for target, name, side in ((1, "yellow duck", FRONT), (5, "green lamp", BEHIND)):
        truth = rng.choice(side) if rng.random() < skew else rng.choice(DIRECTIONS)
        opts = [truth, *rng.sample([d for d in DIRECTIONS if d != truth], 3)]
        rng.shuffle(opts)
        qs.append({"skill": "relative_direction", "step": 1, "question": f"In which direction is the {name}?",
                   "options": dict(zip("ABCD", opts, strict=True)), "answer": "ABCD"[opts.index(truth)],
                   "truth": truth, "target": target})
    return Episode(id=f"d-{i:03d}", backend="house", scene={"seed": i}, start_pose=Pose(0, 0, 0, 0, 0),
                   instruction="Bring the yellow duck to the shelf.", category="pick_drop",
                   subgoals=[Subgoal("pick", target=1)],
                   extra={"bear": {"goal": {"object": 1, "receptacle": 2}, "queries": [*qs, *filler]}})


def _direction_suite(seed: int, skew: float, n: int = 360) -> list[Episode]:
    rng = random.Random(seed)
    return [_direction_episode(i, rng, skew) for i in range(n)]


def test_direction_sectors_that_depend_on_the_role_fail_the_audit_and_the_balance_removes_it():
    """The leak behind bear-lh-v2's 0.398 on test direction (17:57 UTC): goals lie ahead, things
    seen on the way behind, and the question tells which it asks about (it names something the
    instruction names). The audit's pooled text-and-structure model catches a suite with that
    defect; after ``balance_directions`` (sectors uniform per role) the same model is at chance
    and every role's sectors are within one of each other."""
    from embodied_gym.audit import AuditConfig, audit
    from embodied_gym.episodes.bear.balance import balance_directions, direction_role
    from embodied_gym.episodes.bear.options import DIRECTIONS

    checks = ["text_structure_pooled"]
    leaky = audit(_direction_suite(1, 0.6), _direction_suite(2, 0.6), AuditConfig(render=False, checks=checks))
    assert leaky["checks"]["text_structure_pooled"]["by_group"]["relative_direction"]["score"] > 0.40
    target, fit = _direction_suite(1, 0.6), _direction_suite(2, 0.6)
    for i, eps in enumerate((target, fit)):
        balance_directions(eps, random.Random(i))
    for eps in (target, fit):
        per_role: dict[str, Counter] = {"goal": Counter(), "other": Counter()}
        for ep in eps:
            for q in ep.extra["bear"]["queries"]:
                if q["skill"] == "relative_direction":
                    per_role[direction_role(ep, q)][q["truth"]] += 1
        for counts in per_role.values():
            sizes = [counts[d] for d in DIRECTIONS]
            assert max(sizes) - min(sizes) <= 1 and sum(sizes) >= 40, counts
    clean = audit(target, fit, AuditConfig(render=False, checks=checks))
    figure = clean["checks"]["text_structure_pooled"]["by_group"]["relative_direction"]
    assert figure["score"] < 0.35 and figure["n"] >= 80, figure


def test_every_surface_is_offered_as_often_per_time_it_is_the_truth():
    """After the pass, a surface's word tells nothing: each surface appears as a distractor about
    the same number of times per time it is the shown truth (bear-lh-v2 as regenerated at 17:57
    UTC offered "sofa" as a distractor about 1 time per truth where others had 3: routes "pass
    the sofa", so it rarely matched the truth's mention count and was right in 0.38-0.5 of the
    questions offering it)."""
    rng = random.Random(3)
    eps = [_episode(i, rng, often="sofa") for i in range(240)]
    balance_localization(eps, random.Random(4))
    truth, offered = Counter(), Counter()
    for ep in eps:
        for q in ep.extra["bear"]["queries"]:
            if q["skill"] == "object_localization":
                for v in q["options"].values():
                    if v == q["truth"]:
                        truth[v] += 1
                    elif v != NONE_OF_THE_ABOVE:
                        offered[v] += 1
    ratio = sum(offered.values()) / sum(truth.values())
    for surface, n in truth.items():
        if n >= 8:
            assert abs(offered[surface] / n - ratio) <= 0.5, (surface, n, offered[surface], ratio)


def test_letters_are_rebalanced_after_the_passes_drop_questions():
    """The passes drop questions whose letters were dealt from balanced decks; afterwards
    ``rebalance_letters`` moves each correct option so that no letter of a skill is right more
    than once more than another (here, without "None of the above" answers), "None of the above" stays at D, and each option keeps its text."""
    from embodied_gym.episodes.bear.balance import balance_directions, rebalance_letters

    eps = _direction_suite(5, 0.6)
    balance_directions(eps, random.Random(6))
    before = {id(q): (q["truth"], sorted(q["options"].values())) for ep in eps for q in ep.extra["bear"]["queries"]
              if q["skill"] == "relative_direction"}
    rebalance_letters(eps, random.Random(7), skills=("relative_direction",))
    letters = Counter()
    for ep in eps:
        for q in ep.extra["bear"]["queries"]:
            if q["skill"] == "relative_direction":
                letters[q["answer"]] += 1
                assert q["options"][q["answer"]] == q["truth"]
                assert (q["truth"], sorted(q["options"].values())) == before[id(q)]
    assert max(letters.values()) - min(letters.values()) <= 1 and sum(letters.values()) >= 80, letters


# ---------------------------------------------------------------------------------------------
# localization: a question that names the object's room must not let the room rule options out

ROOM_SURFACES = {"kitchen": ["counter", "table", "chair", "cabinet", "barrel", "floor"],
                 "bedroom": ["bed", "nightstand", "shelf", "desk", "chair", "floor"],
                 "storage": ["crate", "barrel", "shelf", "floor"],
                 "living room": ["sofa", "table", "shelf", "cabinet", "chair", "floor"],
                 "office": ["desk", "chair", "shelf", "cabinet", "floor"]}


def _room_episode(i: int, rng: random.Random) -> Episode:
    """Eight planning fillers and one localization question about an object in a random room,
    named in the question in two of three episodes ("the cup in the kitchen"); the truth is a
    surface of that room and the distractors come from every room's surfaces (the draw of
    bear-lh-v2 on 2026-12-02, where "on the sofa" was offered for a bathroom)."""
    room = rng.choice(sorted(ROOM_SURFACES))
    named = i % 3 != 0
    truth = rng.choice(ROOM_SURFACES[room])
    everything = sorted({s for v in ROOM_SURFACES.values() for s in v} - {truth})
    opts = dict(zip("ABCD", [f"on the {s}" for s in [truth, *rng.sample(everything, 3)]], strict=True))
    if i % 5 == 0:
        opts["D"] = NONE_OF_THE_ABOVE
    name = f"cup in the {room}" if named else "cup"
    loc = {"skill": "object_localization", "step": 1, "question": f"Where was the {name} when you first saw it?",
           "options": opts, "answer": "A", "truth": f"on the {truth}", "room": room, "room_named": named,
           "room_surfaces": ROOM_SURFACES[room]}
    filler = [{"skill": "next_action_prediction", "step": 0, "question": "What next?",
               "options": dict(zip("ABCD", ["go to the door", "open the door", "pick up the cup", "put it down"], strict=True)),
               "answer": "A"} for _ in range(8)]
    return Episode(id=f"r-{i:03d}", backend="house", scene={"seed": i}, start_pose=Pose(0, 0, 0, 0, 0),
                   instruction=f"Bring the {name} to the door.", category="pick_drop", subgoals=[Subgoal("pick", target=1)],
                   extra={"bear": {"queries": [loc, *filler]}})


def _room_rule(episodes: list[Episode]) -> tuple[float, int]:
    """A blind reader's rule on the questions that name the room: rule out the surfaces such a
    room cannot hold and guess among the rest ("None of the above" kept); expected accuracy."""
    scores = []
    for ep in episodes:
        for q in ep.extra["bear"]["queries"]:
            if q["skill"] == "object_localization" and q["room_named"]:
                ok = [k for k, v in q["options"].items()
                      if v == NONE_OF_THE_ABOVE or v[len("on the "):] in ROOM_SURFACES[q["room"]]]
                scores.append((q["answer"] in ok) / len(ok))
    return sum(scores) / len(scores), len(scores)


def test_distractors_of_a_question_naming_the_room_are_plausible_for_that_room():
    """bear-lh-v2 of 2026-12-02: 30 of 68 ood localization questions named the object's room
    and the distractors came from the whole split's answers, so ruling out what the room cannot
    hold scored 0.47 on those (the red team's text model 0.35 on the split). After the pass a
    named room's distractors are surfaces of rooms of that kind (each surface still offered about
    three times per time it is the truth); questions that name no room keep the split-wide draw."""
    from embodied_gym.episodes.bear.balance import room_key

    eps = [_room_episode(i, random.Random(i)) for i in range(300)]
    before, n = _room_rule(eps)
    assert before > 0.40 and n >= 150, before  # the defect: the room rules options out
    balance_localization(eps, random.Random(8))
    after, n = _room_rule(eps)
    assert after <= 0.27 and n >= 100, (after, n)
    truth, offered = Counter(), Counter()
    for ep in eps:
        for q in ep.extra["bear"]["queries"]:
            if q["skill"] == "object_localization":
                key = room_key(q)
                assert key == (q["room"] if q["room_named"] else None)
                for v in q["options"].values():
                    if v == q["truth"]:
                        truth[key, v] += 1
                    elif v != NONE_OF_THE_ABOVE:
                        offered[key, v] += 1
    # every (room, surface) pair seen often enough is offered about three times per truth
    for (key, surface), n_true in truth.items():
        if key is not None and n_true >= 6:
            assert 1.5 <= offered[key, surface] / n_true <= 4.5, (key, surface, n_true, offered[key, surface])


def test_letters_are_even_at_every_question_position():
    """A blind model reads a question's place in its episode (the red team's position x letter
    features); after ``rebalance_letters`` each place's letters of a skill are within a few of
    each other while the skill's letters stay within one overall."""
    from embodied_gym.episodes.bear.balance import rebalance_letters

    rng = random.Random(9)
    eps = []
    for i in range(240):
        ep = _room_episode(i, rng)
        pos = i % 3  # the question sits at place 0, 1 or 2; before the pass its letter follows the place
        queries = ep.extra["bear"]["queries"]
        loc = queries.pop(0)
        opts = list(loc["options"].values())
        if NONE_OF_THE_ABOVE in opts:
            opts.remove(NONE_OF_THE_ABOVE)
            opts.append("on the rug")
        letter = "ABC"[pos]
        order = [o for o in opts if o != loc["truth"]]
        order.insert("ABCD".index(letter), loc["truth"])
        loc["options"], loc["answer"] = dict(zip("ABCD", order, strict=True)), letter
        queries.insert(pos, loc)
        eps.append(ep)
    rebalance_letters(eps, random.Random(10), skills=("object_localization",))
    overall, at = Counter(), {p: Counter() for p in range(3)}
    for ep in eps:
        for i, q in enumerate(ep.extra["bear"]["queries"]):
            if q["skill"] == "object_localization":
                assert q["options"][q["answer"]] == q["truth"]
                overall[q["answer"]] += 1
                at[i][q["answer"]] += 1
    assert max(overall.values()) - min(overall.values()) <= 1, overall
    for counts in at.values():
        assert sum(counts.values()) == 80 and max(counts[k] for k in "ABCD") - min(counts[k] for k in "ABCD") <= 4, at
