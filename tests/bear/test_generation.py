"""Generation and replay of bear-lh-v2 episodes: deterministic files, replay of recorded states,
and ground truth that follows the simulator."""

from __future__ import annotations

import json

import pytest

from embodied_gym.episodes.bear.context import EpisodeContext
from embodied_gym.episodes.bear.options import LetterDeck, direction_word, relative_angle
from embodied_gym.episodes.bear.replay import Replay, ReplayError
from embodied_gym.episodes.spec import load_episodes, resolve_ref
from embodied_gym.rewards.bear import NONE_OF_THE_ABOVE
from embodied_gym.sims import make_simulator


@pytest.fixture(scope="module")
def sim():
    s = make_simulator("house", seed=0, width=64, height=48)
    yield s
    s.close()


@pytest.fixture(scope="module")
def episodes():
    return load_episodes("bear-lh-v2:test")[:3] + load_episodes("bear-lh-v2:ood")[:1]


def test_replay_reproduces_the_recorded_object_states(sim, episodes):
    """Before the pick the object rests where the scene put it, while carried it is held, after
    the place it rests on the receptacle; door episodes show the door shut then open."""
    for ep in episodes:
        rep = Replay(sim, ep)
        pick, place = ep.subgoals[-2], ep.subgoals[-1]
        first = rep.observe(0)
        assert first.held_object is None and first.agent.xz == pytest.approx(ep.start_pose.xz, abs=1e-3)
        held_steps = [t for t in range(rep.n_steps) if rep.observe(t).held_object == pick.target]
        assert held_steps, ep.id
        last = rep.observe(rep.n_steps - 1)
        assert last.held_object is None and last.objects[place.target].on == place.receptacle
        # going back in time restores the initial state
        again = rep.apply(0)
        assert again.held_object is None
        assert again.objects[pick.target].position == pytest.approx(first.objects[pick.target].position)
        if ep.subgoals[0].type == "open":
            assert not first.objects[ep.subgoals[0].target].is_open and last.objects[ep.subgoals[0].target].is_open
    with pytest.raises(ReplayError):
        rep.apply(rep.n_steps)


def test_plan_and_progress_follow_the_demonstration(sim, episodes):
    """The high-level plan puts a navigation step before every interaction and marks steps done
    in order, each at or after the previous one."""
    import random

    for ep in episodes:
        ctx = EpisodeContext(sim, ep, random.Random(0), LetterDeck(random.Random(0)), history_n=16)
        kinds = [p["type"] for p in ctx.plan]
        assert kinds[0::2] == ["go"] * (len(kinds) // 2) and kinds[1::2] == [s.type for s in ep.subgoals]
        assert ctx.met_at == sorted(ctx.met_at) and ctx.met_at[-1] <= ctx.last
        # stored relative-direction answers agree with the geometry at their step
        for q in ep.extra["bear"]["queries"]:
            if q["skill"] == "relative_direction":
                pose = ep.demonstration.poses[q["step"]]
                target = ctx.observe(q["step"]).objects[q["target"]].position
                angle = relative_angle(pose.xz, pose.yaw, (target[0], target[2]))
                assert direction_word(angle) == q["truth"] and angle == pytest.approx(q["angle"], abs=0.01)
                assert q["options"][q["answer"]] in (q["truth"], NONE_OF_THE_ABOVE)


#: skills whose questions the split-level pass (episodes/bear/balance.py) drops or re-draws
SPLIT_BALANCED = ("object_localization", "relative_direction")


@pytest.mark.slow
def test_generation_is_deterministic_and_reproduces_the_shipped_files(tmp_path):
    """`egym generate --suite bear-lh-v2` (generate_suite) gives byte-identical files for the same
    arguments, and the shipped file's first episodes are what it generates (up to the wording of
    the oracle's rationales, and of the localization and direction questions, which the
    suite-level balancing pass over the whole split drops or re-draws)."""
    from embodied_gym.episodes.suites import generate_suite

    a = generate_suite("bear-lh-v2", "test", n=2, seed=0, out=tmp_path / "a")[0].read_text()
    b = generate_suite("bear-lh-v2", "test", n=2, seed=0, out=tmp_path / "b")[0].read_text()
    assert a == b
    shipped = resolve_ref("bear-lh-v2:test").read_text().splitlines()[:2]

    def without_rationales(line):
        # the oracle's first-person rationales are wording, not task data: comparing the rest keeps
        # this test about the episodes when the rationale phrasing is edited
        data = json.loads(line)
        data["demonstration"].pop("rationales", None)
        bear = data["extra"]["bear"]
        bear["queries"] = [q for q in bear["queries"] if q["skill"] not in SPLIT_BALANCED]
        return data

    assert [without_rationales(x) for x in a.splitlines()] == [without_rationales(x) for x in shipped]
