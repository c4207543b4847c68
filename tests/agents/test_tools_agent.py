"""The tool-augmented agent (``tools:openai:MODEL``) against a local fake server that scripts tool
calls (OpenAI tools API): the tools run on the step's privileged scene state and say so, rounds
are bounded, every round is cached and its cost summed, the notebook persists across an episode's
steps, and ``extend_arrows`` lengthens drawn arrows from pixels alone."""

from __future__ import annotations

import json
import math
import re

import numpy as np

from embodied_gym.agents.cache import ResponseCache
from embodied_gym.agents.factory import make_agent
from embodied_gym.agents.fake_server import FakeOpenAIServer
from embodied_gym.agents.tools_agent import PRIVILEGED, ToolAgent
from embodied_gym.envs.context import StepContext
from embodied_gym.episodes.bear.arrow_tools import extend_arrows, find_arrows
from embodied_gym.episodes.bear.arrows import GRIPPER_POINT, draw_arrows
from embodied_gym.eval import EvalConfig, run_eval


def tool_messages(body):
    return [m for m in body["messages"] if m.get("role") == "tool"]


def scripted(body):
    """Round 1: detect + update_notebook; round 2: read_notebook; then answer."""
    n_tool = len(tool_messages(body))
    if n_tool == 0:
        return {"content": None, "tool_calls": [{"name": "detect", "arguments": {"phrase": "red ball"}},
                                                {"name": "update_notebook", "arguments": {"entries": {"red ball": "ahead"}}}]}
    if n_tool == 2:
        return {"content": "", "tool_calls": [{"name": "read_notebook", "arguments": {}}]}
    return "<think>done</think><answer>MoveForward</answer>"


SCENE = {
    "objects": [{"id": 7, "name": "the red ball", "category": "ball", "box": [0.1, 0.2, 0.3, 0.4], "distance": 2.5,
                 "direction": "ahead"}],
    "segmentation": np.pad(np.full((2, 2), 7, np.int32), 1),
    "depth": None,
    "distances": {7: 2.5},
}
OBS = {"image": np.full((4, 4, 3), 90, np.uint8), "instruction": "Go to the red ball.", "step": 0, "feedback": ""}


def agent(server, tmp_path, **kw):
    return make_agent("tools:openai:fake-vlm", family="closed_loop", base_url=server.base_url, api_key="k",
                      cache=ResponseCache(tmp_path / "c.sqlite"), **kw)


async def act(a, episode="e1"):
    return await a.act(OBS, StepContext(episode, "closed_loop", scene=SCENE))


def test_tool_rounds_run_privileged_tools_and_are_cached(tmp_path):
    import asyncio

    with FakeOpenAIServer(scripted) as server:
        a = agent(server, tmp_path)
        reply = asyncio.run(act(a))
        sent = len(server.requests)
        again = asyncio.run(act(agent(server, tmp_path)))  # a new agent on the same cache
        assert len(server.requests) == sent  # every round came from the cache
    assert isinstance(a, ToolAgent) and reply.text.endswith("<answer>MoveForward</answer>") and reply.error is None
    assert sent == 3 and a.tool_calls == 3
    detect, note = tool_messages(server.requests[1]["body"])
    assert detect["content"].startswith(PRIVILEGED) and "the red ball" in detect["content"]
    assert "1 entry" in note["content"]
    assert '"red ball": "ahead"' in tool_messages(server.requests[2]["body"])[-1]["content"]
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0 and reply.attempts == 3 and not reply.cached
    assert again.cached and again.text == reply.text
    assert all(r["body"]["tools"] for r in server.requests)


def test_rounds_are_bounded_and_the_last_forbids_tools(tmp_path):
    import asyncio

    always = {"content": None, "tool_calls": [{"name": "read_notebook", "arguments": {}}]}
    with FakeOpenAIServer(lambda body: always) as server:
        a = agent(server, tmp_path, max_rounds=2)
        reply = asyncio.run(act(a))
    assert len(server.requests) == 3 and server.requests[-1]["body"]["tool_choice"] == "none"
    assert reply.error and "2 round" in reply.error


def test_bad_tool_calls_give_readable_errors():
    a = ToolAgent.__new__(ToolAgent)
    a.notebooks = {}
    ctx = StepContext("e", "closed_loop", scene=SCENE)
    assert a.run_tool("detect", "not json", OBS, ctx)[0].startswith("error:")
    assert a.run_tool("nope", "{}", OBS, ctx)[0].startswith("error: unknown tool")
    assert a.run_tool("depth_at", '{"x": 2, "y": 0}', OBS, ctx)[0].startswith("error:")
    assert "the red ball" in a.run_tool("depth_at", '{"x": 0.5, "y": 0.5}', OBS, ctx)[0]
    assert "no object" in a.run_tool("depth_at", '{"x": 0.0, "y": 0.0}', OBS, ctx)[0]
    deep = StepContext("e", "closed_loop", scene={**SCENE, "depth": np.full((4, 4), 3.25, np.float32)})
    assert "3.25 m (depth map)" in a.run_tool("depth_at", '{"x": 0.0, "y": 0.0}', OBS, deep)[0]
    assert a.run_tool("update_notebook", '{"entries": [1]}', OBS, ctx)[0].startswith("error:")
    assert a.run_tool("extend_arrows", "{}", OBS, ctx)[0] == "no arrows found in the current image"


def test_extend_arrows_finds_each_arrow_and_reaches_the_border():
    image = draw_arrows(np.full((120, 160, 3), 128, np.uint8), [[GRIPPER_POINT, [0.2, 0.3]], [GRIPPER_POINT, [0.8, 0.5]]],
                        ("red", "blue"))
    found = {a["color"]: a for a in find_arrows(image)}
    assert set(found) == {"red", "blue"}
    gx, gy = GRIPPER_POINT[0] * 159, GRIPPER_POINT[1] * 119
    for a in found.values():
        assert math.dist(a["start"], (gx, gy)) < 12
    out, arrows = extend_arrows(image)
    assert out.shape == image.shape and (out != image).any()
    for a in arrows:
        x, y = a["extended_to"]
        assert min(x, y, 1 - x, 1 - y) < 0.02  # on the border
    red = next(a for a in arrows if a["color"] == "red")
    assert red["extended_to"][0] < 0.2 and red["extended_to"][1] < 0.3  # further along the same direction


def test_egym_eval_gives_the_tool_agent_the_live_scene(tmp_path):
    def detect_first(body):
        if not tool_messages(body):
            return {"content": None, "tool_calls": [{"name": "depth_at", "arguments": {"x": 0.5, "y": 0.6}}]}
        return "<answer>Finish</answer>"

    with FakeOpenAIServer(detect_first) as server:
        summary = run_eval(EvalConfig(env_id="EmbodiedTask-v0", episodes="house-v1:test", agent="tools:openai:fake-vlm",
                                      out=tmp_path / "run", progress=False, base_url=server.base_url, api_key="k",
                                      limit=2, env_kwargs={"width": 160, "height": 120, "depth": True}))
    assert summary["overall"]["n"] == 2 and len(server.requests) == 4
    results = [tool_messages(r["body"])[0]["content"] for r in server.requests if tool_messages(r["body"])]
    assert len(results) == 2 and all(r.startswith(PRIVILEGED) and re.search(r"depth \d+\.\d\d m \(depth map\)", r) for r in results)
    steps = [json.loads(x) for x in (tmp_path / "run" / "steps.jsonl").read_text().splitlines()]
    logged = [s for s in steps if s["type"] == "step"]
    assert all(any(m.get("role") == "tool" for m in s["prompt"]) for s in logged)


def test_a_failed_round_is_an_infrastructure_failure_not_the_models_answer(tmp_path):
    """A round whose call fails after its retries makes the whole step an infrastructure failure
    (issue 10), as for the plain API agent."""
    import asyncio

    from embodied_gym.agents.settings import AgentSettings

    with FakeOpenAIServer(scripted, script=["server_error"] * 2) as server:
        a = make_agent("tools:openai:fake-vlm", family="closed_loop", base_url=server.base_url, api_key="k",
                       settings=AgentSettings(max_retries=1, backoff_base=0.01))
        reply = asyncio.run(act(a))
    assert reply.infra_failure and reply.text == "" and "failed after 2 attempt" in reply.error
