"""The closed-loop audit (``egym audit`` on closed-loop suites) on the fast fake simulator: it
catches a suite that blind walking solves, it catches task progress leaking into public
``info``, and its walkers never see a frame. (The shipped house-v2 figures are checked in
tests/episodes/test_house_v2.py.)"""

import inspect

import pytest
from fake_sim import FakeSim

from embodied_gym.audit import AuditConfig, audit
from embodied_gym.audit.closed_loop import ClosedLoopAuditConfig, audit_closed_loop
from embodied_gym.envs.closed_loop import ClosedLoopEnv
from embodied_gym.episodes import walkers as walkers_mod
from embodied_gym.episodes.spec import Episode, Subgoal
from embodied_gym.episodes.walker_family import default_walkers
from embodied_gym.sims import BACKENDS, register_backend
from embodied_gym.sims.base import Pose


@pytest.fixture(autouse=True)
def fake_backend():
    register_backend("fake", f"{FakeSim.__module__}:FakeSim")
    yield
    BACKENDS.pop("fake", None)


def straight_ahead(n=20):
    """The fake room's ball lies 2 m straight ahead of every start: walking forward solves it."""
    ball = Subgoal("reach_object", target=1, radius=0.6)
    return [Episode(f"ahead-{i}", "fake", {"fake": True}, Pose(1.0, 0.0, 1.0, 0.0), "Go to the red ball.", "basic",
                    [ball], 20) for i in range(n)]


def config(**kw):
    return AuditConfig(extra={"closed_loop": {"min_n": 5, "width": 32, "height": 24, **kw}})


def test_a_suite_solved_by_walking_forward_fails_the_audit():
    report = audit(straight_ahead(), None, config())
    fig = report["checks"]["walking_policies"]["by_group"]["basic"]
    assert not report["passed"] and not fig["passed"] and fig["score"] == 1.0
    assert "spin0, Finish after 6" in fig["note"] or "Finish after" in fig["note"], fig
    assert report["checks"]["public_info"]["by_group"]["all"]["passed"]


def test_walk_forward_success_matches_a_direct_rollout():
    """The audit's prefix scoring equals running "forward N times, then Finish" for real."""
    eps = straight_ahead(1)
    res = audit_closed_loop(eps, ClosedLoopAuditConfig(min_n=1, width=32, height=24))
    spin0 = {r["finish_after"]: r["success"] for r in res["by_category"]["basic"]["top"] if r["walker"] == "spin0"}
    env = ClosedLoopEnv(eps, backend="fake", width=32, height=24)
    for n in range(0, 14):
        env.reset(seed=0)
        for _ in range(n):
            env.step("MoveForward")
        *_, info = env.step("Finish")
        if n in spin0:
            assert spin0[n] == float(info["success"]), n
        assert info["success"] == (6 <= n <= 10), n  # within 0.6 m of the ball from x = 2.5 to 3.5


def test_task_progress_in_public_info_is_caught(monkeypatch):
    """An env that leaks ``subgoals_met`` outside ``info["privileged"]`` fails ``public_info``,
    and the signal-stop walker turns the leak into successes."""
    real_step = ClosedLoopEnv.step

    def leaky_step(self, action):
        obs, reward, term, trunc, info = real_step(self, action)
        info["subgoals_met"] = info["privileged"]["subgoals_met"]
        return obs, reward, term, trunc, info

    monkeypatch.setattr(ClosedLoopEnv, "step", leaky_step)
    ball = Subgoal("reach_object", target=1, radius=0.6)
    eps = [Episode(f"leak-{i}", "fake", {"fake": True}, Pose(1.0, 0.0, 1.0 + 0.1 * i, 90.0 * (i % 4)), "Go to the red ball.",
                   "exploration", [ball], 80) for i in range(8)]
    report = audit(eps, None, config())
    pub = report["checks"]["public_info"]["by_group"]["all"]
    assert not pub["passed"] and "subgoals_met" in pub["note"]
    res = audit_closed_loop(eps, ClosedLoopAuditConfig(min_n=1, width=32, height=24))
    assert res["public_info"]["varying_keys"] == ["subgoals_met"]
    assert res["by_category"]["exploration"]["by_walker"]["signal-stop0"] > 0


def test_walkers_never_see_a_frame():
    """A walker's whole input is the instruction (reset) and (action_success, feedback, public info)."""
    for cls in (walkers_mod.Spin, walkers_mod.LWalk, walkers_mod.Keyed, walkers_mod.WallFollow, walkers_mod.RandomWalk,
                walkers_mod.SignalStop):
        assert list(inspect.signature(cls.act).parameters) == ["self", "ok", "feedback", "public"]
        assert list(inspect.signature(cls.reset).parameters) == ["self", "instruction", "seed"]
    names = [w.name for ws in default_walkers().values() for w in ws]
    assert len(names) == len(set(names)) and {"spin0", "L1", "wall-left+open-block", "signal-stop0"} <= set(names)
    # the red-team walkers that found most in house-v2's first release are in the audit
    assert {"wall-right/p5", "wall-left/p2", "bump1", "bump9", "bump3+open-every"} <= set(names)


def test_generation_refuses_a_split_that_fails_the_audit(tmp_path, monkeypatch):
    """``egym generate`` (``generate_audited``) writes nothing for a split blind walking solves:
    the file is kept as ``SPLIT.jsonl.rejected`` and AuditFailed carries the report."""
    from embodied_gym.audit import gate
    from embodied_gym.audit.core import AuditFailed
    from embodied_gym.episodes.spec import save_episodes

    monkeypatch.setattr(gate, "generate_suite",
                        lambda suite, split, n=None, seed=0, out=".": [save_episodes(out / f"{split}.jsonl", straight_ahead())])
    with pytest.raises(AuditFailed) as err:
        gate.generate_audited("house-v2", "test", out=tmp_path, config=config())
    assert not err.value.report["passed"] and "walking_policies" in str(err.value)
    assert not (tmp_path / "test.jsonl").exists() and not (tmp_path / "test.audit.json").exists()
    assert (tmp_path / "test.jsonl.rejected").exists()


def test_no_agent_and_not_the_runner_reads_info_privileged():
    """``info["privileged"]`` is the evaluator's view: no module of embodied_gym.agents or of the
    runner (embodied_gym.eval) indexes it (the reports and the audit do)."""
    import re
    from pathlib import Path

    import embodied_gym

    root = Path(embodied_gym.__file__).parent
    key = re.compile(r"""[\[(,]\s*["']privileged["']""")
    readers = [str(p.relative_to(root)) for sub in ("agents", "eval") for p in (root / sub).rglob("*.py")
               if key.search(p.read_text(encoding="utf-8"))]
    assert readers == []
    assert key.search((root / "audit" / "closed_loop.py").read_text())  # the pattern does find a reader
