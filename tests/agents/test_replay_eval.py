"""`egym eval --env EmbraceReplay-v0` end to end through the evaluation harness: the issue's
Contract on the shared six-episode sample (skipped where it is absent, e.g. a clean CI clone),
the same on the repository's fixture, the random baseline's chance level, and the prompt that
model agents get (the demonstrator's earlier actions, EmbRACE-3K's vocabulary, recorded frames)."""

import json
from collections import Counter
from itertools import count
from pathlib import Path

import gymnasium as gym
import pytest

from embodied_gym.agents.fake_server import FakeOpenAIServer
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


REPLIES = ["<answer>MoveForward</answer>", "<answer>TurnLeft</answer>", "I am not sure what to do.",
           "<answer>Finish</answer>", "<answer>LookHand</answer>"]


def _markdown_table(md: str, heading: str) -> dict[str, dict[str, int]]:
    """The table under the ``## `` heading starting with ``heading``, as ``{row: {column: int}}``."""
    lines = md.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    header, *body = rows
    return {r[0]: {c: int(v) for c, v in zip(header[1:], r[1:], strict=True)} for r in body}


def test_summary_md_shows_the_action_confusion_matrix_counted_from_the_step_records(tmp_path):
    """summary.md has the expert-vs-predicted confusion table, and each cell equals the number of
    step records (steps.jsonl) whose demonstrated action (the episode's demonstration) and parsed
    prediction (``invalid`` for an unparsable reply) are that row and column."""
    episodes, run = tmp_path / "episodes", tmp_path / "run"
    assert main(["import", "embrace3k", str(FIXTURE), "--out", str(episodes)]) == 0
    n = count()
    with FakeOpenAIServer(lambda body: REPLIES[next(n) % len(REPLIES)]) as server:
        assert main(["eval", "--env", "EmbraceReplay-v0", "--episodes", str(episodes), "--agent", "openai:fake-vlm",
                     "--base-url", server.base_url, "--api-key", "k", "--out", str(run), "--no-progress"]) == 0
    demos = {ep.id: ep.demonstration.actions for ep in load_episodes(episodes)}
    records = [json.loads(x) for x in (run / "steps.jsonl").read_text().splitlines()]
    steps = {(r["episode_id"], r["step"]): r for r in records if r["type"] == "step"}
    assert len(steps) == sum(len(a) for a in demos.values()) == 31
    expected = Counter((demos[ep][t], "invalid" if r["invalid_action"] else r["parsed_action"])
                       for (ep, t), r in steps.items())
    table = _markdown_table((run / "summary.md").read_text(), "Action confusion")
    assert set(table) == {expert for expert, _ in expected}
    for expert, row in table.items():
        assert row["n"] == sum(c for (e, _), c in expected.items() if e == expert)
        assert {p: c for p, c in row.items() if p != "n" and c} == {p: c for (e, p), c in expected.items() if e == expert}
    assert any(p == "invalid" for _, p in expected) and any(e != p for e, p in expected)  # both are exercised
