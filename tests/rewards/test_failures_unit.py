"""Failure attribution rules on hand-written traces (:func:`embodied_gym.rewards.failures.attribute`):
no trace of a failed episode is left without a mode, the closed-loop summary gains
``failure_modes``, and ``summary.md`` shows them."""

from hypothesis import given, settings
from hypothesis import strategies as st

from embodied_gym.episodes.spec import Subgoal
from embodied_gym.report import format_report
from embodied_gym.rewards.failures import FAILURE_MODES, StepRecord, attribute
from embodied_gym.rewards.metrics import summarize_closed_loop

SUBGOALS = [Subgoal("reach_object", target=1, radius=1.0), Subgoal("pick", target=2)]


def rec(step, action="MoveForward", **kw):
    base = dict(step=step, action=action, invalid=False, action_success=True, position=(0.0, 0.0), visible=[],
                met=0, holding=[], distances=[3.0, 5.0], rival_near=[])
    base.update(kw)
    return StepRecord(**base)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, "MoveForward", "Finish", "PickObject"]), st.booleans(),
                          st.lists(st.integers(1, 3), max_size=3), st.integers(0, 2), st.booleans(),
                          st.one_of(st.none(), st.floats(0, 10))), min_size=1, max_size=12),
       st.booleans())
def test_every_failed_trace_gets_exactly_one_known_mode(rows, truncated):
    records = [rec(i, a, invalid=a is None, visible=v, met=m, rival_near=[0] if r else [], distances=[d, d])
               for i, (a, _, v, m, r, d) in enumerate(rows)]
    out = attribute(records, SUBGOALS, success=False, truncated=truncated)
    assert out.mode in FAILURE_MODES and out.mode not in out.flags
    assert all(f in FAILURE_MODES for f in out.flags) and len(set(out.flags)) == len(out.flags)


def test_closed_loop_summary_and_markdown_list_failure_modes():
    base = {"split": "test", "spl": 0.0, "gde": 1.0, "gde_euclidean": 1.0, "subgoal_completion": 0.0,
            "coverage": 0.1, "invalid_actions": 0, "steps": 3}
    results = [
        {**base, "episode_id": "a", "category": "basic", "success": False, "failure_mode": "premature_finish",
         "failure_flags": []},
        {**base, "episode_id": "b", "category": "exploration", "success": False, "failure_mode": "never_saw_target",
         "failure_flags": ["premature_finish"]},
        {**base, "episode_id": "c", "category": "basic", "success": True, "failure_mode": None, "failure_flags": []},
    ]
    modes = summarize_closed_loop(results)["failure_modes"]
    assert sum(modes["overall"].values()) == 2 == modes["n_failed"]
    assert modes["by_category"]["basic"]["premature_finish"] == 1 and modes["flags"]["premature_finish"] == 1
    text = format_report(summarize_closed_loop(results))
    assert "## Failure modes (2 failed episodes)" in text and "| never_saw_target | 1 |" in text
