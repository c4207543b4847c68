"""`egym eval --env EmbraceReplay-v0` end to end through the evaluation harness: the issue's
Contract on the shared six-episode sample (skipped where it is absent, e.g. a clean CI clone),
the same on the repository's fixture, the random baseline's chance level, and the prompt that
model agents get (the demonstrator's earlier actions, EmbRACE-3K's vocabulary, recorded frames)."""

import json
from pathlib import Path

import gymnasium as gym
import pytest

from embodied_gym.agents.families import get_family
from embodied_gym.cli import main
from embodied_gym.envs.context import StepContext
from embodied_gym.envs.prompts import PromptBuilder, PromptConfig
from embodied_gym.episodes.spec import load_episodes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "embrace3k"
SHARED = Path("/work/shared/data/embrace3k-sample")


def _import_and_eval(src, tmp_path, agent):
    out, run = tmp_path / "episodes", tmp_path / f"run-{agent}"
    assert main(["import", "embrace3k", str(src), "--out", str(out)]) == 0
    assert main(["eval", "--env", "EmbraceReplay-v0", "--episodes", str(out), "--agent", agent, "--out", str(run),
                 "--no-progress"]) == 0
    return json.loads((out / "import_report.json").read_text()), json.loads((run / "summary.json").read_text())


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared EmbRACE-3K sample is not at {SHARED}")
def test_contract_on_the_shared_sample(tmp_path):
    """The issue's Contract: oracle step_accuracy 1.0, overall.n = episodes imported, overall.steps =
    steps, by_category keyed by the six task types."""
    report, summary = _import_and_eval(SHARED, tmp_path, "oracle")
    assert report["n_imported"] == 6 and report["n_skipped"] == 0
    assert summary["overall"]["step_accuracy"] == 1.0
    assert summary["overall"]["n"] == report["n_imported"]
    assert summary["overall"]["steps"] == report["steps"] == 56
    assert set(summary["by_category"]) == {"basic", "exploration", "spatial_semantic", "multi_stage", "open_door", "pick_drop"}


def test_oracle_and_random_on_the_fixture(tmp_path):
    report, oracle = _import_and_eval(FIXTURE, tmp_path, "oracle")
    assert oracle["overall"]["step_accuracy"] == 1.0 and oracle["overall"]["steps"] == report["steps"] == 31
    assert set(oracle["by_category"]) == {"basic", "open_door", "pick_drop"}
    assert all(row["accuracy"] == 1.0 and row["precision"] == 1.0 for row in oracle["by_action"].values())
    _, rand = _import_and_eval(FIXTURE, tmp_path, "random")
    assert rand["overall"]["steps"] == 31 and rand["overall"]["step_accuracy"] < 0.5  # 14 actions: chance ~ 1/14
    assert rand["overall"]["episode_exact_match"] == 0.0
    assert sum(sum(row.values()) for row in rand["confusion"].values()) == 31


def test_model_prompt_shows_the_demonstrated_history_and_the_recorded_vocabulary(tmp_path):
    main(["import", "embrace3k", str(FIXTURE), "--out", str(tmp_path / "eps")])
    ep = next(e for e in load_episodes(tmp_path / "eps") if e.category == "pick_drop")
    env = gym.make("EmbraceReplay-v0", episodes=[ep], width=24, height=24, history=2)
    obs, _ = env.reset()
    for _ in range(3):
        obs, *_ = env.step("Finish")  # wrong on purpose: the prompt still lists what the demonstrator did
    builder = PromptBuilder(PromptConfig.load(get_family("replay").name))
    ctx = StepContext("e", "replay", step=3, actions=["Finish"] * 3, parsed_actions=["Finish"] * 3, feedback=[""] * 3)
    messages = builder.build(obs, ctx)
    content = messages[-1]["content"]
    text = content[-1]["text"]
    demo = ep.demonstration.actions
    assert f"1. {demo[0]}\n2. {demo[1]}\n3. {demo[2]}" in text and "LookHand" in text and ep.instruction in text
    assert sum(1 for c in content if c["type"] == "image") == 3  # two history frames + the current one
