"""BEAR ground truth is the evaluator's, never the agent's: ``BearLongHorizon-v0`` and
``BearSkill-v0`` keep every piece of the answer key under ``info["privileged"]``; the runner
still logs it into ``steps.jsonl``; what an agent of ours is handed (observations and the
runner's per-episode memory) is the same whatever the answer key; and ``egym audit``'s
``public_info_key`` check catches an env that leaks the key into public info."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embodied_gym.agents.base import Agent, AgentReply
from embodied_gym.audit.bear_info import key_dependent_keys, perturb_key
from embodied_gym.audit.registry import AuditContext
from embodied_gym.envs.bear import BearLongHorizonEnv
from embodied_gym.episodes.spec import load_episodes, save_episodes
from embodied_gym.eval.config import EvalConfig
from embodied_gym.eval.scheduler import run_eval
from embodied_gym.rewards.bear import answer_kind


@pytest.fixture(scope="module")
def episode():
    return load_episodes("bear-lh-v2:test")[0]


def test_step_info_holds_the_answer_key_only_under_privileged(episode):
    """No public info value of any step is the answer (letter, point, box or mask); the
    privileged view has them all."""
    env = BearLongHorizonEnv(episodes=[episode], width=64, height=48, history_frames=2)
    env.reset(seed=0)
    kinds, done = set(), False
    while not done:
        query = env.queries[env._q]
        _, _, done, _, info = env.step(env.oracle_action())
        assert "ground_truth" not in info and "ground_truth_mask" not in info
        truth = info["privileged"]["ground_truth"]
        kind = answer_kind(query["skill"])
        kinds.add(kind)
        if kind == "choice":
            assert truth == query["answer"]
            public = {k: v for k, v in info.items() if k not in ("privileged", "parsed_answer", "episode_result")}
            assert query["answer"] not in [v for v in public.values() if isinstance(v, str)]
        elif kind == "point":
            assert info["privileged"]["ground_truth_mask"].dtype == bool
    assert kinds == {"choice", "point", "box"}
    env.close()


def test_nothing_public_changes_with_the_answer_key(episode):
    """Played twice with blank answers, the second time with every key changed: observations
    and public info are identical (the audit's ``public_info_key``); the evaluator's view differs."""
    assert key_dependent_keys(episode, AuditContext()) == set()
    changed = perturb_key(episode)
    pairs = zip(episode.extra["bear"]["queries"], changed.extra["bear"]["queries"], strict=True)
    assert all(a["answer"] != b["answer"] for a, b in pairs)


def test_public_info_key_check_catches_an_env_that_publishes_the_answer(episode, monkeypatch):
    """The check has teeth: an env that copies the ground truth into public info (what
    bear-lh-v2 first shipped with) is caught."""
    step = BearLongHorizonEnv.step

    def leaky(self, action):
        obs, reward, terminated, truncated, info = step(self, action)
        info["ground_truth"] = info["privileged"]["ground_truth"]
        return obs, reward, terminated, truncated, info

    monkeypatch.setattr(BearLongHorizonEnv, "step", leaky)
    assert key_dependent_keys(episode, AuditContext()) == {"info.ground_truth"}


class _Recorder(Agent):
    """Records everything it is handed: the observation and the runner's memory."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[dict] = []

    async def act(self, obs, ctx):
        self.seen.append({
            "obs": {k: (v.tobytes() if isinstance(v, np.ndarray) else v) for k, v in obs.items()},
            "memory": (list(ctx.actions), list(ctx.parsed_actions), list(ctx.feedback), [f.tobytes() for f in ctx.frames],
                       ctx.oracle, ctx.perception, ctx.scene),
        })
        return AgentReply("A")


def test_agents_see_the_same_whatever_the_answer_key_and_the_log_keeps_it(tmp_path, episode):
    """Through ``egym eval``'s runner: an agent answering every question is handed exactly the
    same observations and memory when only the answer key differs, none of them holds
    ``privileged``; the step log (the evaluator's) records each key from ``info["privileged"]``."""
    runs = {}
    for name, ep in (("as-is", episode), ("changed", perturb_key(episode))):
        path = save_episodes(tmp_path / f"{name}.jsonl", [ep])
        agent = _Recorder()
        run_eval(EvalConfig(env_id="BearLongHorizon-v0", episodes=str(path), agent=agent, out=tmp_path / name,
                            progress=False, env_kwargs={"width": 64, "height": 48, "history_frames": 2}))
        steps = [json.loads(x) for x in (tmp_path / name / "steps.jsonl").read_text().splitlines()]
        runs[name] = (agent.seen, [s for s in steps if s["type"] == "step"])
    seen_a, log_a = runs["as-is"]
    seen_b, log_b = runs["changed"]
    assert len(seen_a) == len(episode.extra["bear"]["queries"]) and seen_a == seen_b
    assert all("privileged" not in s["obs"] for s in seen_a)
    queries = episode.extra["bear"]["queries"]
    assert [s["ground_truth"] for s in log_a if answer_kind(s["skill"]) == "choice"] == \
        [q["answer"] for q in queries if answer_kind(q["skill"]) == "choice"]
    assert [s["ground_truth"] for s in log_a] != [s["ground_truth"] for s in log_b]
    assert all("privileged" not in s for s in log_a)


def test_only_the_runners_step_log_reads_the_evaluator_view():
    """In the source: no module of embodied_gym.agents reads ``privileged`` or calls
    ``evaluator_view``; in the runner (embodied_gym.eval) only the scheduler does, for the step
    log (the family's ``log_fields``), which no agent is handed."""
    import re
    from pathlib import Path

    import embodied_gym

    root = Path(embodied_gym.__file__).parent
    reads = re.compile(r"""evaluator_view\(|envs\.common import[^\n]*\b(PRIVILEGED|evaluator_view)\b|[\[(,]\s*["']privileged["']""")
    readers = sorted(str(p.relative_to(root)) for sub in ("agents", "eval") for p in (root / sub).rglob("*.py")
                     if reads.search(p.read_text(encoding="utf-8")))
    assert readers == ["eval/scheduler.py"]
    text = (root / "eval" / "scheduler.py").read_text(encoding="utf-8")
    assert text.count("evaluator_view(") == 1 and "seen = evaluator_view(info)" in text
