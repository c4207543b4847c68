"""The shortcut auditor (embodied_gym.audit, ``egym audit``): each blind baseline catches the
shortcut it is built for on a synthetic suite that has it, and stays near chance on one that
does not; the registry takes checks of other families; the CLI prints one JSON object."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from embodied_gym import cli
from embodied_gym.audit import CHECKS, AuditConfig, Figure, audit, register
from embodied_gym.episodes.bear.grounding import decode_mask, encode_mask
from embodied_gym.episodes.spec import Episode, Subgoal, save_episodes
from embodied_gym.sims.base import Pose

WORDS = ["red", "blue", "green", "shelf", "table", "kitchen", "bedroom", "go", "to", "the", "pick", "up", "cup"]


def _episode(i: int, queries: list[dict]) -> Episode:
    return Episode(id=f"syn-{i:03d}", backend="house", scene={"seed": i}, start_pose=Pose(0, 0, 0, 0, 0),
                   instruction="Bring the cup to the shelf.", category="pick_drop",
                   subgoals=[Subgoal("pick", target=1)],
                   extra={"bear": {"queries": queries}})


def _mc(rng: random.Random, skill: str, leak: bool) -> dict:
    """Four random options; with ``leak`` the answer is always the longest one."""
    opts = [" ".join(rng.choices(WORDS, k=rng.randint(2, 6))) for _ in range(4)]
    answer = rng.randrange(4)
    if leak:
        opts[answer] = opts[answer] + " and then some more words"
    return {"skill": skill, "step": 0, "question": "Which one?", "options": dict(zip("ABCD", opts, strict=True)),
            "answer": "ABCD"[answer], "target": None}


def _suite(seed: int, leak: bool, n: int = 60) -> list[Episode]:
    rng = random.Random(seed)
    eps = []
    for i in range(n):
        qs = [_mc(rng, "relative_direction", leak), _mc(rng, "next_action_prediction", leak)]
        # boxes: either always the same box (leak) or random sizes and places
        if leak:
            box = [0.25, 0.25, 0.75, 0.75]
        else:
            w, h = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
            x, y = rng.uniform(0, 1 - w), rng.uniform(0, 1 - h)
            box = [x, y, x + w, y + h]
        qs.append({"skill": "bbox_general", "step": 0, "question": "Box it.", "options": {}, "answer": box,
                   "box": box, "target": 1})
        eps.append(_episode(i, qs))
    return eps


def test_audit_catches_a_length_tell_and_a_fixed_box():
    report = audit(_suite(1, leak=True), _suite(2, leak=True), AuditConfig(render=False))
    assert not report["passed"]
    worst = report["worst_by_group"]
    assert worst["relative_direction"]["score"] > 0.9
    assert worst["bbox_general"]["check"] == "fixed_box" and worst["bbox_general"]["score"] > 0.9


def test_audit_stays_near_chance_on_a_suite_without_tells():
    report = audit(_suite(3, leak=False, n=120), _suite(4, leak=False, n=120), AuditConfig(render=False))
    for group, w in report["worst_by_group"].items():
        if group != "bbox_general":
            assert w["score"] < 0.40, (group, w)
    assert report["checks"]["fixed_box"]["by_group"]["bbox_general"]["score"] <= 0.10


def test_audit_without_a_fit_split_cross_fits_halves():
    report = audit(_suite(5, leak=True), None, AuditConfig(render=False))
    assert report["fit"] == "cross-fitted halves"
    assert report["worst_by_group"]["relative_direction"]["score"] > 0.9


SURFACES = ["floor", "shelf", "table", "sofa", "desk", "bed", "chair", "counter"]


def _localization_suite(seed: int, leak: bool, n: int = 80) -> list[Episode]:
    """Per episode a route question, then a localization question. With ``leak`` the correct
    surface is "passed" by the earlier route (as in bear-lh-v2 as first shipped) and no
    distractor is; without, the route passes a surface drawn independently of the answer."""
    rng = random.Random(seed)
    eps = []
    for i in range(n):
        opts = rng.sample(SURFACES, 4)
        answer = rng.randrange(4)
        passed = opts[answer] if leak else rng.choice(SURFACES)
        route = {"skill": "path_planning", "step": 0, "question": "Which route leads to the bed?",
                 "options": {k: f"turn {d}, pass the {passed}, stop at the bed" for k, d in
                             zip("ABCD", ["left", "right", "around to the left", "around to the right"], strict=True)},
                 "answer": "ABCD"[rng.randrange(4)], "target": None}
        loc = {"skill": "object_localization", "step": 1, "question": "Where was the cup when you first saw it?",
               "options": {k: f"on the {o}" for k, o in zip("ABCD", opts, strict=True)}, "answer": "ABCD"[answer], "target": 1}
        eps.append(_episode(i, [route, loc]))
    return eps


def test_audit_catches_an_answer_named_by_earlier_questions():
    """The red team's attack on bear-lh-v2's first localization questions (the option sharing
    most words with the earlier questions' options) is part of the audit: a suite whose earlier
    route names the correct surface fails (structure heuristics and the structure-only model);
    one whose route names a surface independent of the answer passes."""
    checks = ["structure_heuristics", "structure_only"]
    report = audit(_localization_suite(1, True), _localization_suite(2, True), AuditConfig(render=False, checks=checks))
    figures = {c: report["checks"][c]["by_group"]["object_localization"] for c in checks}
    assert all(f["score"] > 0.75 for f in figures.values()), figures
    assert "earlier" in figures["structure_heuristics"]["note"] or "context" in figures["structure_heuristics"]["note"]
    clean = audit(_localization_suite(3, False), _localization_suite(4, False), AuditConfig(render=False, checks=checks))
    assert all(clean["checks"][c]["by_group"]["object_localization"]["score"] < 0.40 for c in checks), clean["checks"]


def test_bear_lh_v2_as_first_shipped_fails_the_extended_audit():
    """bear-lh-v2 as first shipped (commit 807986f; its test split's questions up to each
    localization question, other fields stripped, in tests/fixtures) passed the audit of the
    time but not the red team: the surface an object started on was named by earlier questions
    (routes, spatial pointing, other targets) far more often than a distractor. The audit's
    earlier-question features catch it: heuristics and the structure-only model well above 0.40
    (the shipped files today pass: test_shipped_v2_suite_passes_every_blind_baseline)."""
    from pathlib import Path

    from embodied_gym.episodes.spec import load_episodes

    path = Path(__file__).parent.parent / "fixtures" / "bear-lh-v2-first-ship-localization.jsonl"
    checks = ["structure_heuristics", "structure_only"]
    report = audit(load_episodes(path), None, AuditConfig(render=False, checks=checks))
    figures = {c: report["checks"][c]["by_group"]["object_localization"] for c in checks}
    assert figures["structure_heuristics"]["n"] == 63
    assert all(f["score"] > 0.6 for f in figures.values()), figures
    assert not report["passed"]


def test_registry_takes_a_check_of_another_family_and_rejects_duplicates():
    name = "test_always_half"

    @register("closed_loop", name, "a test check")
    def always_half(target, fit, ctx):
        return {"basic": Figure(0.5, len(target), limit=0.1, chance=0.0)}

    try:
        eps = [Episode(id=f"cl-{i}", backend="house", scene={"seed": i}, start_pose=Pose(0, 0, 0, 0, 0),
                       instruction="go", category="basic", subgoals=[]) for i in range(4)]
        report = audit(eps, eps, AuditConfig(render=False, checks=[name]))
        assert report["family"] == "closed_loop" and not report["passed"]
        assert report["failures"] == [f"{name}/basic: 0.500 > 0.1 (n=4)"]
        with pytest.raises(ValueError, match="already registered"):
            register("closed_loop", name, "again")(always_half)
    finally:
        CHECKS["closed_loop"].pop(name, None)


def test_mask_run_length_round_trip():
    rng = np.random.default_rng(0)
    mask = rng.random((12, 16)) > 0.6
    assert np.array_equal(decode_mask(encode_mask(mask)), mask)


def test_cli_audit_json_prints_one_object_and_exit_code_says_failed(tmp_path, capsys):
    target = save_episodes(tmp_path / "t.jsonl", _suite(6, leak=True))
    fit = save_episodes(tmp_path / "f.jsonl", _suite(7, leak=True))
    rc = cli.main(["audit", str(target), "--fit", str(fit), "--json", "--no-render"])
    out = capsys.readouterr().out
    report = json.loads(out)  # exactly one JSON document
    assert rc == 1 and report["passed"] is False and "checks" in report


@pytest.mark.parametrize("split", ["test", "ood"])
def test_shipped_v2_suite_passes_every_blind_baseline(split):
    """CI's audit of the shipped bear-lh-v2 splits (fitted on the other split): no text /
    structure / position / nearest-neighbour model or heuristic above 0.40 on any
    multiple-choice skill, no fixed point above 0.15, no fixed box above 0.10; every skill
    present. (The frame-replaying visibility check is the slow test below.)"""
    from embodied_gym.audit import audit_ref
    from embodied_gym.rewards.bear import SKILLS

    report = audit_ref(f"bear-lh-v2:{split}", config=AuditConfig(render=False))
    assert report["fit"] == f"bear-lh-v2:{'ood' if split == 'test' else 'test'}"
    assert report["passed"], report["failures"]
    assert set(report["worst_by_group"]) == set(SKILLS)
    assert all(w["n"] >= 40 for w in report["worst_by_group"].values())


@pytest.mark.slow
@pytest.mark.parametrize("split", ["test", "ood"])
def test_shipped_v2_suite_shows_every_object_it_asks_about(split):
    """Replaying the frames: every direction / route / localization question's object has
    visible pixels in a frame the question shows, every grounding target is in view."""
    from embodied_gym.audit import audit_ref

    report = audit_ref(f"bear-lh-v2:{split}", config=AuditConfig(checks=["unseen_target"]))
    figures = report["checks"]["unseen_target"]["by_group"]
    assert figures and all(f["score"] == 0.0 for f in figures.values()), figures


def test_deprecated_v1_fails_the_audit_on_its_known_shortcuts():
    """The auditor has teeth: on bear-lh-v1 it finds the shortcuts the validity issue reported
    (directions from the option set, arrows from their geometry, planning from the question's
    position, fixed points)."""
    from embodied_gym.audit import audit_ref

    checks = ["option_nearest_neighbour", "structure_only", "position_prior", "fixed_point"]
    report = audit_ref("bear-lh-v1:test", config=AuditConfig(render=False, checks=checks))
    score = lambda c, g: report["checks"][c]["by_group"][g]["score"]  # noqa: E731
    assert score("option_nearest_neighbour", "relative_direction") > 0.8
    assert score("structure_only", "trajectory_reasoning") > 0.8
    assert score("position_prior", "next_action_prediction") > 0.45
    assert score("fixed_point", "pointing_general") > 0.3
    assert not report["passed"]


ROOMS = ["kitchen", "bedroom", "bathroom", "garage", "office", "hallway", "nursery", "studio"]


def _room_suite(seed: int, leak: bool, n: int = 120) -> list[Episode]:
    """One localization question per episode naming the object's room ("the cup in the
    kitchen"). With ``leak`` the room determines the true surface (kitchen -> counter, ...) while
    every surface is as often true as offered, so option text alone says nothing; without, the
    true surface is drawn independently of the room (the shipped, balanced case)."""
    rng = random.Random(seed)
    eps = []
    for i in range(n):
        r = rng.randrange(len(ROOMS))
        truth = SURFACES[r] if leak else rng.choice(SURFACES)
        opts = [truth, *rng.sample([s for s in SURFACES if s != truth], 3)]
        rng.shuffle(opts)
        loc = {"skill": "object_localization", "step": 0,
               "question": f"Where was the cup in the {ROOMS[r]} when you first saw it?",
               "options": {k: f"on the {o}" for k, o in zip("ABCD", opts, strict=True)},
               "answer": "ABCD"[opts.index(truth)], "target": 1}
        eps.append(_episode(i, [loc]))
    return eps


def test_question_option_cross_catches_the_room_named_in_the_question():
    """The red team's ``lr`` leak in bear-lh-v2's first localization questions (the room the
    question names predicts the true surface) is invisible to every other multiple-choice
    check -- none of them crosses question words with option words -- and caught by
    ``question_option_cross``; the balanced suite passes it."""
    from embodied_gym.audit import bear_choice

    mc = [n for n, c in CHECKS["bear"].items() if c.fn.__module__ == bear_choice.__name__]
    assert "question_option_cross" in mc and len(mc) >= 8
    leaky = audit(_room_suite(1, True), _room_suite(2, True), AuditConfig(render=False, checks=mc))
    score = {c: leaky["checks"][c]["by_group"]["object_localization"]["score"] for c in mc
             if "object_localization" in leaky["checks"][c]["by_group"]}  # arrow checks: trajectories only
    assert len(score) >= 7, score
    assert score.pop("question_option_cross") > 0.75, leaky["checks"]["question_option_cross"]
    assert all(s <= 0.40 for s in score.values()), score  # every other MC check passes it
    assert leaky["failures"] == [f"question_option_cross/object_localization: "
                                 f"{leaky['checks']['question_option_cross']['by_group']['object_localization']['score']:.3f}"
                                 f" > 0.4 (n=120)"]
    clean = audit(_room_suite(3, False), _room_suite(4, False), AuditConfig(render=False, checks=mc))
    assert clean["passed"], clean["failures"]
