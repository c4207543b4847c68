"""Subgoal progress: subgoals are met strictly in order; success needs the last one to hold at Finish."""

from embodied_gym.episodes import Subgoal
from embodied_gym.rewards.progress import SubgoalTracker, TaskState, subgoal_met
from embodied_gym.sims.base import ObjectInfo, Pose

OBJS = {
    1: ObjectInfo(1, "ball", "the red ball", position=(2.0, 0.0, 0.0), pickable=True),
    2: ObjectInfo(2, "desk", "the desk", kind="furniture", position=(5.0, 0.0, 0.0), receptacle=True),
    3: ObjectInfo(3, "door", "the office door", kind="door", position=(8.0, 0.0, 0.0), openable=True, is_open=False),
}


def state(x, held=None, objects=OBJS, dist=None):
    return TaskState(Pose(x, 0.0, 0.0), held, objects, dist)


def test_reach_uses_geodesic_when_given():
    sg = Subgoal("reach_object", target=1, radius=1.0)
    assert subgoal_met(sg, state(1.5))
    assert not subgoal_met(sg, state(1.5, dist=lambda p: 4.0)), "a wall between agent and target must count"


def test_in_order_progress_and_success_on_finish():
    goals = [Subgoal("reach_object", target=1, radius=1.0), Subgoal("reach_object", target=2, radius=1.0)]
    tr = SubgoalTracker(goals)
    assert tr.update(state(5.0), 0) == 0, "second subgoal must not count before the first"
    assert tr.update(state(2.0), 1) == 1 and tr.index == 1
    assert not tr.success_on_finish(state(2.0))
    assert tr.update(state(5.2), 2) == 1 and tr.done and tr.met_at == [1, 2]
    assert tr.success_on_finish(state(5.2))
    assert not tr.success_on_finish(state(9.0)), "walking away from the last target before Finish fails"
    assert tr.completion == 1.0


def test_pick_place_open():
    """pick holds when the target is held; place only once it rests on the receptacle and is not held; open once the door is open."""
    placed = dict(OBJS)
    placed[1] = ObjectInfo(1, "ball", "the red ball", position=(5.0, 0.8, 0.0), on=2)
    assert subgoal_met(Subgoal("pick", target=1), state(0, held=1))
    assert not subgoal_met(Subgoal("place", target=1, receptacle=2), state(0, held=1))
    assert subgoal_met(Subgoal("place", target=1, receptacle=2), state(0, objects=placed))
    opened = dict(OBJS)
    opened[3] = ObjectInfo(3, "door", "the office door", kind="door", openable=True, is_open=True)
    assert not subgoal_met(Subgoal("open", target=3), state(0))
    assert subgoal_met(Subgoal("open", target=3), state(0, objects=opened))
