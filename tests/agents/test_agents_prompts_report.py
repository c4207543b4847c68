"""Prompt configs (validation, history frames, feedback) and the Markdown report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embodied_gym.agents.base import StepContext
from embodied_gym.agents.settings import AgentSettings
from embodied_gym.envs.prompts import PromptBuilder, PromptConfig
from embodied_gym.report import format_report


def frame(v):
    return np.full((6, 8, 3), v, np.uint8)


def test_closed_loop_prompt_has_actions_format_history_and_feedback():
    """Current frame last, the last k earlier frames before it, previous actions and feedback in the text."""
    cfg = PromptConfig.load("closed_loop")
    ctx = StepContext("e", "closed_loop")
    for i, (a, p) in enumerate([("go", "MoveForward"), ("??", None), ("left", "TurnLeft")]):
        ctx.record({"image": frame(10 + i)}, a, p, f"fb{i}")
    msgs = PromptBuilder(cfg).build({"image": frame(99), "instruction": "Find the key.", "step": 3,
                                     "feedback": "TurnLeft succeeded"}, ctx)
    assert msgs[0]["role"] == "system"
    parts = msgs[-1]["content"]
    images = [p["image"] for p in parts if p["type"] == "image"]
    assert [int(im[0, 0, 0]) for im in images] == [11, 12, 99][-(cfg.history_frames + 1):]
    text = parts[-1]["text"]
    for needle in ("Find the key.", "<answer>", "MoveForward, MoveBackward", "TurnLeft succeeded", "invalid reply"):
        assert needle in text


def test_bear_prompt_samples_history_uniformly():
    """16-frame cap: 40 history frames become 16, first and last included, then the current frame."""
    hist = np.stack([frame(i + 1) for i in range(40)])
    obs = {"image": frame(200), "history": hist, "question": "Where is the duck? Please directly output the correct option.",
           "options": ["left", "right", "behind", "front"], "skill": "relative_direction"}
    msgs = PromptBuilder(PromptConfig.load("bear")).build(obs, StepContext("e", "bear"))
    vals = [int(p["image"][0, 0, 0]) for p in msgs[-1]["content"] if p["type"] == "image"]
    assert len(vals) == 17 and vals[0] == 1 and vals[15] == 40 and vals[16] == 200
    assert "A. left" in msgs[-1]["content"][-1]["text"] and "D. front" in msgs[-1]["content"][-1]["text"]


def test_bad_prompt_config_names_file_and_field(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"template": "{instruction} {nope}"}))
    with pytest.raises(ValueError, match=r"p\.json.*template.*nope"):
        PromptConfig.load("closed_loop", bad)
    bad.write_text(json.dumps({"history_frame": 2}))
    with pytest.raises(ValueError, match="history_frame"):
        PromptConfig.load("closed_loop", bad)


def test_settings_yaml_overrides_prompt_fields(tmp_path):
    """An agent config in YAML can override single prompt fields; unknown settings are rejected."""
    p = tmp_path / "agent.yaml"
    p.write_text("temperature: 0.2\nprompt:\n  history_frames: 0\n")
    s = AgentSettings.load(p)
    assert s.temperature == 0.2 and s.prompt_config("closed_loop").history_frames == 0
    p.write_text("temprature: 0.2\n")
    with pytest.raises(ValueError, match="temprature"):
        AgentSettings.load(p)


def test_report_tables_per_group():
    summary = {"overall": {"success_rate": 0.5, "n": 4},
               "by_skill": {"pointing": {"accuracy": 0.25, "n": 4}, "bbox": {"accuracy": 1.0, "n": 2}},
               "run": {"agent": "random", "steps": 10, "errors": [{"episode_id": "x", "error": "boom"}]}}
    md = format_report(summary, "T")
    assert "| all | 4 | 0.5 |" in md
    assert "## By skill" in md and "| pointing | 4 | 0.25 |" in md and "| bbox | 2 | 1 |" in md
    assert "- agent: random" in md and "- x: boom" in md


def test_example_agent_config_matches_the_defaults():
    """configs/agents/example.yaml loads and documents exactly the default settings."""
    from dataclasses import asdict, fields

    from embodied_gym.agents.settings import HFOptions
    from embodied_gym.envs.prompts import configs_dir

    example = AgentSettings.load(configs_dir() / "agents" / "example.yaml")
    assert asdict(example) == asdict(AgentSettings()) and example.hf == HFOptions()
    text = (configs_dir() / "agents" / "example.yaml").read_text()
    for f in [*fields(AgentSettings), *fields(HFOptions)]:  # every field documented there, with help here
        assert f"{f.name}:" in text and f.metadata.get("help"), f.name
