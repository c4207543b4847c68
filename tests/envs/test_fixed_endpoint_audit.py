"""The audit's fixed-endpoint baselines (``fixed_endpoint``, ``fixed_endpoint_insplit``) on the
fast fake simulator: a suite whose reach goals all lie at one point of the start frame fails
both (whatever the houses and start poses in the world), the fitted check scores the disc chosen
on the fit split (goals clustered elsewhere there score 0), multi-goal episodes need both their
first and last goal in discs, and interaction episodes are not scored."""

import pytest
from fake_sim import FakeSim

from embodied_gym.audit import AuditConfig, audit
from embodied_gym.audit.fixed_endpoint import ENDPOINT_LIMIT, best_discs, score_discs
from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.sims import BACKENDS, register_backend
from embodied_gym.sims.base import Pose

CHECKS = ["fixed_endpoint", "fixed_endpoint_insplit"]


def config(checks=CHECKS, min_n=5):
    return AuditConfig(checks=checks, extra={"closed_loop": {"min_n": min_n}})
BALL = Subgoal("reach_object", target=1, radius=1.0)  # the fake room's ball lies at (3.0, 1.0)
#: start poses with the ball 2 m straight ahead (yaw 0 faces +x, yaw 90 faces -z) ...
AHEAD = [Pose(1.0, 0.0, 1.0, 0.0), Pose(3.0, 0.0, 3.0, 90.0)]
#: ... and 2 m to the left
LEFT = [Pose(3.0, 0.0, 3.0, 0.0), Pose(1.0, 0.0, 1.0, 270.0)]


@pytest.fixture(autouse=True)
def fake_backend():
    register_backend("fake", f"{FakeSim.__module__}:FakeSim")
    yield
    BACKENDS.pop("fake", None)


def episodes(poses, n=20, tag="ep", subgoals=(BALL,), category="basic"):
    return [Episode(f"{tag}-{i}", "fake", {"fake": True}, poses[i % len(poses)], "Go to the red ball.", category,
                    list(subgoals), 40) for i in range(n)]


def test_goals_all_straight_ahead_fail_both_checks():
    """Every goal 2 m straight ahead (from two different world poses): one disc holds them all."""
    report = audit(episodes(AHEAD), None, config())
    for check in CHECKS:
        fig = report["checks"][check]["by_group"]["basic"]
        assert fig["score"] == 1.0 and not fig["passed"] and fig["limit"] == ENDPOINT_LIMIT, (check, fig)
        assert "2.0 m ahead" in fig["note"] or "ahead" in fig["note"]
    assert not report["passed"]


def test_fitted_check_scores_the_disc_chosen_on_the_fit_split():
    """Fit split: goals 2 m ahead; target: goals 2 m to the left. The fitted disc misses every
    target goal (fixed_endpoint 0) while the in-split disc holds them all."""
    report = audit(episodes(LEFT, tag="left"), episodes(AHEAD, tag="ahead"), config())
    assert report["checks"]["fixed_endpoint"]["by_group"]["basic"]["score"] == 0.0
    assert report["checks"]["fixed_endpoint_insplit"]["by_group"]["basic"]["score"] == 1.0


def test_share_held_by_the_best_disc():
    """Two goals ahead, 18 to the left (2.8 m apart, beyond one disc): the best disc holds 18 of
    20; goals on a grid 2.5 m apart: no disc holds two."""
    mixed = episodes([AHEAD[0]], 2, "a") + episodes([LEFT[0]], 18, "l")
    insplit = audit(mixed, None, config(["fixed_endpoint_insplit"]))["checks"]["fixed_endpoint_insplit"]
    assert insplit["by_group"]["basic"]["score"] == pytest.approx(0.9)
    entries = [{"goals": [(2.0, 0.0)]}] * 2 + [{"goals": [(0.0, 2.0)]}] * 18
    k, centres = best_discs(entries, False, 1.2)
    assert k == 18 and score_discs(entries[:2], centres, 1.2) == 0
    grid = [{"goals": [(2.5 * i, 2.5 * j)]} for i in range(5) for j in range(4)]
    assert best_discs(grid, False, 1.2)[0] == 1


def test_too_few_episodes_are_reported_not_failed():
    """Of a handful of episodes one disc always holds one: below ``min_n`` the figure is kept but
    its limit is 1 (as the walking check does), so a tiny generated split is not refused."""
    report = audit(episodes(AHEAD, n=4), None, config(min_n=20))
    fig = report["checks"]["fixed_endpoint_insplit"]["by_group"]["basic"]
    assert fig["score"] == 1.0 and fig["passed"] and "too few episodes" in fig["note"]
    assert not audit(episodes(AHEAD, n=20), None, config(min_n=20))["passed"]


def test_multi_goal_episodes_need_first_and_last_goal_in_discs():
    entries = [{"goals": [(1.0, 0.0), (4.0, 0.0)]}] * 3 + [{"goals": [(1.0, 3.0), (4.0, 0.0)]}] * 2
    k, centres = best_discs(entries, True, 1.0)
    assert k == 3 and len(centres) == 2
    assert score_discs([{"goals": [(1.0, 3.0), (4.0, 0.0)]}], centres, 1.0) == 0


def test_interaction_episodes_are_not_scored():
    pick = Subgoal("pick", target=1)
    report = audit(episodes(AHEAD, subgoals=(pick,), category="pick_drop"), None, config())
    fig = report["checks"]["fixed_endpoint"]["by_group"]["pick_drop"]
    assert fig["n"] == 0 and fig["passed"] and "not scored" in fig["note"]
