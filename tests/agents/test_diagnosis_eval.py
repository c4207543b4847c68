"""Diagnosis through ``egym eval`` on the real environments (house backend, shipped suites): the
summary's ``failure_modes`` account for every failed episode, an always-Finish model lands every
failure under ``premature_finish``, BEAR runs write ``first_failure`` once per failed episode, and
``--perception oracle`` puts the privileged object list into every prompt (``none`` sends no image)."""

from __future__ import annotations

import json

import pytest

from embodied_gym.agents.fake_server import FakeOpenAIServer, last_user_text
from embodied_gym.envs.perception import HEADER
from embodied_gym.eval import EvalConfig, run_eval
from embodied_gym.eval.config import ConfigError


def finish(body):
    return "<think>I am there.</think><answer>Finish</answer>"


def run(tmp_path, env_id, episodes, server, name="run", **kw):
    cfg = EvalConfig(env_id=env_id, episodes=episodes, agent="openai:fake-vlm", out=tmp_path / name, progress=False,
                     base_url=server.base_url, api_key="k", limit=kw.pop("limit", 6),
                     env_kwargs={"width": 160, "height": 120}, **kw)
    return run_eval(cfg)


def images(body):
    return sum(1 for m in body["messages"] if isinstance(m.get("content"), list)
               for p in m["content"] if p.get("type") == "image_url")


def test_always_finish_fails_every_episode_as_premature_finish(tmp_path):
    with FakeOpenAIServer(finish) as server:
        summary = run(tmp_path, "EmbodiedTask-v0", "house-v1:test", server)
    modes = summary["failure_modes"]
    failed = summary["overall"]["n"] - round(summary["overall"]["success_rate"] * summary["overall"]["n"])
    assert failed == 6 and modes["n_failed"] == failed == sum(modes["overall"].values())
    assert modes["overall"]["premature_finish"] == failed
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["failure_modes"] == modes
    episodes = [json.loads(x) for x in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    episodes = [e for e in episodes if e["type"] == "episode"]
    assert all(e["result"]["failure_mode"] == "premature_finish" for e in episodes)
    assert "## Failure modes (6 failed episodes)" in (tmp_path / "run" / "summary.md").read_text()


def test_bear_run_writes_first_failure_once_per_failed_episode(tmp_path):
    with FakeOpenAIServer() as server:  # a deterministic letter / coordinate-free reply per prompt
        summary = run(tmp_path, "BearLongHorizon-v0", "bear-lh-v2:test", server, limit=4)
    first = summary["first_failure"]
    failed = summary["overall"]["n"] - round(summary["overall"]["episode_success_rate"] * summary["overall"]["n"])
    assert first["n_failed"] == failed == sum(first["counts"].values()) > 0


def test_perception_oracle_adds_the_object_list_and_none_drops_the_images(tmp_path):
    with FakeOpenAIServer(finish) as server:
        run(tmp_path, "EmbodiedTask-v0", "house-v1:test", server, name="oracle", perception="oracle", limit=2)
        oracle = list(server.requests)
        run(tmp_path, "EmbodiedTask-v0", "house-v1:test", server, name="none", perception="none", limit=2)
        blind = server.requests[len(oracle):]
    assert oracle and all(HEADER in last_user_text(r["body"]) and "Visible objects" in last_user_text(r["body"])
                          for r in oracle)
    assert all(images(r["body"]) >= 1 for r in oracle)
    assert blind and all(images(r["body"]) == 0 and HEADER not in last_user_text(r["body"]) for r in blind)
    run_json = json.loads((tmp_path / "oracle" / "run.json").read_text())
    assert run_json["perception"] == "oracle"


def test_bad_perception_value_names_the_field(tmp_path):
    with pytest.raises(ConfigError, match="perception"):
        EvalConfig(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="oracle", out=tmp_path, perception="x")


def test_the_three_perception_settings_compare_in_one_table(tmp_path):
    from embodied_gym.reports.compare import compare_runs

    with FakeOpenAIServer(finish) as server:
        for setting in ("images", "oracle", "none"):
            run(tmp_path, "EmbodiedTask-v0", "house-v1:test", server, name=setting, perception=setting, limit=2)
    table = compare_runs([tmp_path / s for s in ("images", "oracle", "none")])
    agents = [row["agent"] for row in table["rows"]]
    assert agents == ["openai:fake-vlm", "openai:fake-vlm [perception=oracle]", "blind:fake-vlm [perception=none]"]
