"""Blind walkers (embodied_gym.episodes.walkers / walker_family): the movement-only simulation the
generators use (``traces``) puts every walker exactly where stepping the real simulator does; the
family's walkers follow the Walker contract and act as their docstrings say."""

from __future__ import annotations

import inspect
import random

import numpy as np
import pytest

from embodied_gym.episodes.generators.common import sample_start_pose
from embodied_gym.episodes.walker_family import (
    BumpTurn,
    Interleave,
    Prefixed,
    Spiral,
    ZigZag,
    clearance_walkers,
    default_walkers,
    drift_walkers,
    family,
)
from embodied_gym.episodes.walkers import RandomWalk, Walker, WallFollow, trace, traces
from embodied_gym.sims.house import generate_house_spec


def _step_for_real(sim, walker, start, actions):
    """Positions of ``walker`` stepping the real simulator (collisions, doors as they are)."""
    sim.teleport(start)
    walker.reset("", 0)
    ok, feedback, out = True, "", [(start.x, start.z)]
    for _ in range(actions):
        action = walker.act(ok, feedback, {})
        if action is None:
            break
        obs = sim.step(action)
        ok = bool(obs.last_action_success)
        feedback = f"{action} succeeded" if ok else f"{action} failed: blocked"
        out.append((obs.agent.x, obs.agent.z))
    return np.asarray(out + [out[-1]] * (actions + 1 - len(out)))


@pytest.mark.parametrize("house", [3, 11])
def test_traces_put_every_walker_where_the_simulator_does(house_sim, house):
    """The generators' movement-only simulation equals real stepping, position for position, for
    the clearance walkers and for walkers they do not use (spiral, zig-zag, random)."""
    house_sim.reset(generate_house_spec(house, n_rooms=4))
    start = sample_start_pose(house_sim, random.Random(house))
    walkers = clearance_walkers() + [Spiral("left"), ZigZag(4, 2, "right"), RandomWalk(5)]
    simulated = traces(walkers, house_sim, start, 50)
    assert simulated.shape == (len(walkers), 51, 2)
    for i, w in enumerate(walkers):
        real = _step_for_real(house_sim, type(w)(**{k: getattr(w, k) for k in w.__dataclass_fields__}), start, 50)
        assert np.allclose(real, simulated[i], atol=1e-6), w.name
    assert np.allclose(trace(BumpTurn(3), house_sim, start, 50), simulated[len(clearance_walkers()) - 9])


@pytest.mark.parametrize("house", [3, 11])
def test_traces_report_each_walkers_first_refused_move(house_sim, house):
    """``refused`` holds the index of each walker's first refused move, the one real stepping
    reports as failed (``actions + 1`` when none was): before it every move went through."""
    house_sim.reset(generate_house_spec(house, n_rooms=4))
    start = sample_start_pose(house_sim, random.Random(house))
    walkers = drift_walkers() + [BumpTurn(3)]
    first = np.zeros(len(walkers), dtype=int)
    traces(walkers, house_sim, start, 60, refused=first)
    assert (first <= 60).any(), "some walker must hit a wall in 60 actions"
    for w, k in zip(walkers, first, strict=True):
        w = type(w)(**{f: getattr(w, f) for f in w.__dataclass_fields__})
        house_sim.teleport(start)
        w.reset("", 0)
        ok, feedback, failed_at = True, "", 61
        for t in range(1, 61):
            action = w.act(ok, feedback, {})
            obs = house_sim.step(action)
            ok = bool(obs.last_action_success)
            feedback = f"{action} succeeded" if ok else f"{action} failed: blocked"
            if not ok:
                failed_at = t
                break
        assert failed_at == k, (w.name, failed_at, k)


def test_drift_walkers_are_the_four_step_zigzags_and_the_family_holds_out_others():
    """basic keeps targets away from the 4-step zig-zags; the red team's family also has 3-, 5-
    and 6-step ones, which no generator uses (its held-out check)."""
    drift = {w.name for w in drift_walkers()}
    assert drift == {f"zigzag-{h}4x{t}" for h in ("left", "right") for t in (1, 2, 3)}
    names = {w.name for w in family()}
    assert drift <= names and not drift & {w.name for w in clearance_walkers()}
    for leg in (3, 5, 6):
        assert {f"zigzag-{h}{leg}x{t}" for h in ("left", "right") for t in (1, 2, 3)} <= names


def test_traces_refuses_walkers_that_interact(house_sim):
    house_sim.reset(generate_house_spec(3, n_rooms=3))
    start = sample_start_pose(house_sim, random.Random(0))
    with pytest.raises(ValueError, match="interact"):
        traces([WallFollow("left", open_doors="every")], house_sim, start, 5)


def test_family_walkers_follow_the_walker_contract():
    """Unique names; ``act`` sees only its own action's result (no frame); none calls Finish."""
    walkers = family() + [w for ws in default_walkers().values() for w in ws]
    names = [w.name for w in family()]
    assert len(names) == len(set(names)) >= 60
    for w in walkers:
        assert list(inspect.signature(w.act).parameters) == ["ok", "feedback", "public"]
    for w in family():
        w.reset("Go to the chair on the left.", 1)
        ok = True
        for t in range(60):
            a = w.act(ok, "", {})
            assert a != "Finish" and not w.self_finishing
            ok = t % 7 != 0  # some moves refused


def test_bump_turn_walks_until_blocked_then_turns_the_shorter_way():
    w = BumpTurn(9)
    w.reset("", 0)
    assert [w.act(True, "", {}) for _ in range(3)] == ["MoveForward"] * 3
    assert [w.act(False, "", {})] + [w.act(True, "", {}) for _ in range(3)] == ["TurnRight"] * 3 + ["MoveForward"]


def test_prefixed_turns_first_and_interleave_passes_the_base_only_its_own_results():
    p = Prefixed(BumpTurn(3), 10)
    p.reset("", 0)
    assert [p.act(True, "", {}) for _ in range(3)] == ["TurnRight", "TurnRight", "MoveForward"]

    class Recorder(Walker):
        name = "rec"

        def reset(self, instruction, seed):
            super().reset(instruction, seed)
            self.seen = []

        def act(self, ok, feedback, public):
            self.seen.append((ok, feedback))
            return self._do("MoveForward")

    base = Recorder()
    w = Interleave(base, "pickdrop")
    w.reset("", 0)
    acts = [w.act(True, "", {}), w.act(False, "MoveForward failed: blocked", {}), w.act(True, "PickObject succeeded", {}),
            w.act(True, "MoveForward succeeded", {}), w.act(True, "DropObject succeeded", {})]
    assert acts == ["MoveForward", "PickObject", "MoveForward", "DropObject", "MoveForward"]
    assert base.seen == [(True, ""), (False, "MoveForward failed: blocked"), (True, "MoveForward succeeded")]
