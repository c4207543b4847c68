"""The runner on the real environments (EmbodiedTask-v0 on the house simulator, BearLongHorizon-v0)
with small freshly generated episode sets: oracle, random and an API agent behind the fake server."""

from __future__ import annotations

import json

import pytest

from embodied_gym.agents.fake_server import FakeOpenAIServer
from embodied_gym.eval import EvalConfig, run_eval

pytestmark = pytest.mark.slow


def _generate(tmp_path_factory, suite, n):
    from embodied_gym.episodes.suites import generate_suite

    # no skip on failure: generation is part of the product, so a generator bug must fail these tests
    (path,) = generate_suite(suite, split="test", n=n, seed=0, out=tmp_path_factory.mktemp(suite))
    return str(path)


@pytest.fixture(scope="module")
def house_episodes(tmp_path_factory):
    return _generate(tmp_path_factory, "house-v2", 1)  # one episode per category


@pytest.fixture(scope="module")
def bear_episodes(tmp_path_factory):
    return _generate(tmp_path_factory, "bear-lh-v2", 2)


def run(env_id, episodes, agent, out, **kw):
    return run_eval(EvalConfig(env_id=env_id, episodes=episodes, agent=agent, out=out, progress=False, **kw))


def test_oracle_scores_one_on_closed_loop(house_episodes, tmp_path):
    summary = run("EmbodiedTask-v0", house_episodes, "oracle", tmp_path / "o", concurrency=3)
    assert summary["overall"]["success_rate"] == 1.0 and summary["overall"]["n"] == 6
    assert set(summary["by_category"]) == {"basic", "exploration", "spatial_semantic", "multi_stage", "open_door",
                                           "pick_drop"}


def test_api_agent_on_closed_loop_goes_through_text_action(house_episodes, tmp_path):
    """Free-text replies reach the Discrete env through TextAction; prompts carry the current frame
    plus the last two; every episode ends with a result."""
    with FakeOpenAIServer() as server:
        summary = run("EmbodiedTask-v0", house_episodes, "openai:fake-vlm", tmp_path / "a", concurrency=3, limit=3,
                      base_url=server.base_url, api_key="k")
    assert summary["overall"]["n"] == 3 and summary["run"]["n_errors"] == 0
    steps = [json.loads(x) for x in (tmp_path / "a" / "steps.jsonl").read_text().splitlines()]
    steps = [s for s in steps if s["type"] == "step"]
    assert len(steps) == len(server.requests) and all(s["parsed_action"] for s in steps)
    later = [r["body"]["messages"][-1]["content"] for r in server.requests]
    assert max(sum(p["type"] == "image_url" for p in parts) for parts in later) == 3


def test_bear_oracle_random_and_api_agent(bear_episodes, tmp_path):
    oracle = run("BearLongHorizon-v0", bear_episodes, "oracle", tmp_path / "o")
    assert oracle["overall"]["episode_success_rate"] == 1.0 and oracle["overall"]["step_accuracy"] == 1.0
    rnd = run("BearLongHorizon-v0", bear_episodes, "random", tmp_path / "r")
    assert rnd["overall"]["step_accuracy"] < 1.0 and rnd["by_skill"]
    with FakeOpenAIServer() as server:
        api = run("BearLongHorizon-v0", bear_episodes, "openai:fake-vlm", tmp_path / "a", concurrency=2,
                  base_url=server.base_url, api_key="k")
    assert api["overall"]["n"] == 2 and len(server.requests) == oracle["run"]["steps"]
    text = server.requests[0]["body"]["messages"][-1]["content"][-1]["text"]
    assert "A." in text or "(x" in text
