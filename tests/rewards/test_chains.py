"""BEAR skill-chain diagnosis (:mod:`embodied_gym.rewards.chains`): the first failing skill is
counted once per failed episode, accuracy conditioned on a right prefix, and both reach
``summarize_bear`` and ``summary.md``."""

from embodied_gym.report import format_report
from embodied_gym.rewards.bear import summarize_bear
from embodied_gym.rewards.chains import first_failure, skill_chains


def ep(eid, *steps, success=None):
    rows = [{"skill": s, "correct": ok, "score": float(ok)} for s, ok in steps]
    ok = all(r["correct"] for r in rows) if success is None else success
    return {"episode_id": eid, "split": "test", "episode_success": ok, "steps": rows}


RESULTS = [
    ep("a", ("next_action", True), ("pointing", False), ("path", False)),
    ep("b", ("next_action", False), ("pointing", True)),
    ep("c", ("next_action", True), ("pointing", True)),
    ep("d", ("next_action", True), ("pointing", False)),
    ep("e", ("next_action", True), success=False),  # stopped before its last question
]


def test_first_failure_is_the_first_wrong_step():
    assert first_failure(RESULTS[0]) == "pointing"
    assert first_failure(RESULTS[1]) == "next_action"
    assert first_failure(RESULTS[2]) is None
    assert first_failure(RESULTS[4]) == "incomplete"


def test_each_failed_episode_counted_once():
    out = skill_chains(RESULTS)["first_failure"]
    assert out["counts"] == {"pointing": 2, "incomplete": 1, "next_action": 1}
    assert out["n_failed"] == 4 == sum(out["counts"].values())
    assert abs(sum(out["share"].values()) - 1.0) < 1e-9


def test_conditional_accuracy_only_counts_steps_after_a_right_prefix():
    cond = skill_chains(RESULTS)["conditional_accuracy"]
    # pointing after a right next_action: a (wrong), c (right), d (wrong); b's is after a wrong step
    assert cond["pointing"]["n"] == 3 and abs(cond["pointing"]["accuracy"] - 1 / 3) < 1e-9
    assert cond["pointing"]["n_all"] == 4 and cond["pointing"]["unconditional"] == 0.5
    assert cond["path"]["n"] == 0 and cond["path"]["accuracy"] is None


def test_summary_and_markdown_carry_the_chain_diagnosis():
    summary = summarize_bear(RESULTS)
    assert summary["first_failure"]["n_failed"] == 4
    text = format_report(summary)
    assert "## First failing skill (4 failed episodes)" in text and "| pointing | 2 |" in text
    assert "## Accuracy given every earlier step right" in text
