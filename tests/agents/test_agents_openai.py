"""OpenAIAgent driven through the real ``openai`` client against a real local HTTP server
(:class:`FakeOpenAIServer`) for every failure mode: what is retried, what is waited, what is
recorded as a failure, what is cached."""

from __future__ import annotations

import asyncio
import base64
import io

import numpy as np
import pytest
from PIL import Image

from embodied_gym.agents.base import AgentFatalError, StepContext
from embodied_gym.agents.cache import ResponseCache, request_key
from embodied_gym.agents.fake_server import Behavior, FakeOpenAIServer
from embodied_gym.agents.openai_agent import OpenAIAgent, backoff_delay, cache_namespace
from embodied_gym.agents.settings import AgentSettings

OBS = {"image": np.full((30, 40, 3), 120, np.uint8), "instruction": "Go to the red chair.", "step": 0, "feedback": ""}


class Sleeps:
    """Records requested waits instead of sleeping, so tests prove the policy without taking time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_agent(server, tmp_path=None, sleeps=None, **settings):
    base = {"timeout": 5.0, "max_retries": 3, "backoff_base": 0.5, "jitter": 0.0}
    base.update(settings)
    cache = ResponseCache(tmp_path / "cache.sqlite") if tmp_path is not None else None
    return OpenAIAgent("fake-vlm", family="closed_loop", settings=AgentSettings(**base), base_url=server.base_url,
                       api_key="sk-test", cache=cache, sleep=sleeps or Sleeps())


def act(agent, obs=OBS, ctx=None):
    async def go():
        try:
            return await agent.act(obs, ctx or StepContext("ep-0", "closed_loop"))
        finally:
            await agent.aclose()

    return asyncio.run(go())


def test_request_is_a_standard_chat_completion_with_image_data_url():
    """One POST to {base_url}/chat/completions with model, temperature 0, seed, bearer key and a
    base64 JPEG data URL resized to the configured cap; the reply text comes back with usage and cost."""
    with FakeOpenAIServer("<answer>TurnLeft</answer>") as server:
        reply = act(make_agent(server, image_max_side=20))
    assert reply.text == "<answer>TurnLeft</answer>" and reply.error is None and reply.attempts == 1
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test"
    body = req["body"]
    assert body["model"] == "fake-vlm" and body["temperature"] == 0 and body["seed"] == 0
    parts = body["messages"][-1]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert len(urls) == 1 and urls[0].startswith("data:image/jpeg;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(urls[0].split(",", 1)[1])))
    assert img.size == (20, 15)  # 40x30 scaled to a longer side of 20
    assert "Go to the red chair." in parts[-1]["text"] and "MoveForward" in parts[-1]["text"]
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0
    # configs/prices.json prices "fake-" models at 1 USD / 2 USD per million tokens
    assert reply.cost == pytest.approx((reply.prompt_tokens * 1.0 + reply.completion_tokens * 2.0) / 1e6)
    assert "<image 20x15 sha1:" in str(reply.prompt)  # the log copy carries placeholders, not pixels


def test_rate_limit_honours_retry_after():
    """A 429 with Retry-After: 7 makes the agent wait 7 s (not its 0.5 s backoff) and try again."""
    sleeps = Sleeps()
    with FakeOpenAIServer("ok", script=[Behavior("rate_limit", retry_after=7)]) as server:
        reply = act(make_agent(server, sleeps=sleeps))
    assert reply.text == "ok" and reply.attempts == 2
    assert sleeps.waits == [7.0]
    assert [r["status"] for r in server.requests] == [429, 200]


def test_server_errors_back_off_exponentially():
    """Two 500s then success: waits of base*2^0 and base*2^1 (jitter off), three requests."""
    sleeps = Sleeps()
    with FakeOpenAIServer("ok", script=["server_error", Behavior("server_error", status=503)]) as server:
        reply = act(make_agent(server, sleeps=sleeps))
    assert reply.text == "ok" and reply.attempts == 3
    assert sleeps.waits == [0.5, 1.0]


def test_timeout_and_dropped_connection_are_retried():
    """A request the server sits on past the client timeout, then a dropped connection, then success."""
    with FakeOpenAIServer("ok", script=[Behavior("timeout", delay=3.0), "drop"]) as server:
        reply = act(make_agent(server, timeout=0.3))
    assert reply.text == "ok" and reply.attempts == 3 and reply.error is None


def test_malformed_body_is_retried():
    """A 200 whose body is not JSON is treated as a transient fault."""
    with FakeOpenAIServer("ok", script=["malformed"]) as server:
        reply = act(make_agent(server))
    assert reply.text == "ok" and reply.attempts == 2


@pytest.mark.parametrize("kind", ["empty", "null_content", "no_choices"])
def test_empty_completion_is_retried_and_never_cached(kind, tmp_path):
    """Empty / null content or no choices is not a reply of the model (issue 10): it is retried
    like a 5xx, and only the real reply that follows is cached."""
    with FakeOpenAIServer("real", script=[kind]) as server:
        reply = act(make_agent(server, tmp_path))
    assert reply.text == "real" and reply.error is None and reply.attempts == 2 and not reply.infra_failure
    assert len(server.requests) == 2
    cache = ResponseCache(tmp_path / "cache.sqlite")
    assert len(cache) == 1 and cache.get(reply.request_hash)["text"] == "real"


@pytest.mark.parametrize("kind", ["empty", "no_choices"])
def test_empty_completions_outlasting_the_retries_are_an_infrastructure_failure(kind, tmp_path):
    """Only empty completions: after the retries an infrastructure failure, nothing cached."""
    with FakeOpenAIServer("never", script=[kind] * 4) as server:
        reply = act(make_agent(server, tmp_path, max_retries=3))
    assert reply.text == "" and reply.infra_failure and "empty completion" in reply.error and reply.attempts == 4
    assert len(ResponseCache(tmp_path / "cache.sqlite")) == 0


def test_retries_running_out_is_a_failed_reply_not_an_exception():
    """Four 500s with max_retries=3: no exception, text "", error says how many attempts failed."""
    sleeps = Sleeps()
    with FakeOpenAIServer("ok", script=["server_error"] * 4) as server:
        agent = make_agent(server, sleeps=sleeps)
        reply = act(agent)
    assert reply.text == "" and reply.attempts == 4 and "failed after 4 attempt" in reply.error and reply.infra_failure
    assert len(sleeps.waits) == 3 and agent.stats["failures"] == 1


def test_bad_request_is_not_retried():
    """A 400 (e.g. context too long) fails this step at once."""
    with FakeOpenAIServer("ok", script=[Behavior("server_error", status=400)]) as server:
        reply = act(make_agent(server))
    assert reply.text == "" and reply.attempts == 1 and "HTTP 400" in reply.error


def test_authentication_error_is_fatal():
    """A 401 would fail every request: AgentFatalError stops the run."""
    with FakeOpenAIServer("ok", script=[Behavior("server_error", status=401)]) as server:
        with pytest.raises(AgentFatalError, match="401"):
            act(make_agent(server))


def test_cache_answers_repeated_request_without_http(tmp_path):
    """The second identical request is served from SQLite: cached=True, cost 0, no new HTTP request,
    even from a new agent (a re-run)."""
    with FakeOpenAIServer("<answer>Finish</answer>") as server:
        first = act(make_agent(server, tmp_path))
        second = act(make_agent(server, tmp_path))
    assert len(server.requests) == 1
    assert second.cached and second.text == first.text and second.cost == 0.0 and second.attempts == 0
    assert second.request_hash == first.request_hash == request_key(cache_namespace(server.base_url),
                                                                    server.requests[0]["body"])


def test_changed_parameters_miss_the_cache(tmp_path):
    """Temperature is part of the key: a different temperature is a new request."""
    with FakeOpenAIServer("x") as server:
        act(make_agent(server, tmp_path))
        act(make_agent(server, tmp_path, temperature=0.7))
    assert len(server.requests) == 2


def test_concurrent_identical_requests_share_one_call(tmp_path):
    """Eight episodes asking the same thing at once cause one HTTP request."""
    with FakeOpenAIServer("y", latency=0.2) as server:
        agent = make_agent(server, tmp_path)

        async def go():
            try:
                return await asyncio.gather(*(agent.act(OBS, StepContext(f"e{i}", "closed_loop")) for i in range(8)))
            finally:
                await agent.aclose()

        replies = asyncio.run(go())
    assert len(server.requests) == 1 and all(r.text == "y" for r in replies)
    assert sum(r.cached for r in replies) == 7


def test_blind_agent_sends_no_image():
    """The text-only baseline sends the same task text but no image part."""
    with FakeOpenAIServer("z") as server:
        agent = OpenAIAgent("fake-vlm", family="closed_loop", blind=True, base_url=server.base_url, api_key="k")
        act(agent)
    parts = server.requests[0]["body"]["messages"][-1]["content"]
    assert all(p["type"] == "text" for p in parts)
    assert "No image is available" in parts[-1]["text"]


def test_backoff_jitter_stays_within_bounds():
    """Exponential backoff with jitter j stays within [1-j, 1+j] times base*2^attempt, capped."""
    import random

    s = AgentSettings(backoff_base=1.0, backoff_max=10.0, jitter=0.5)
    rng = random.Random(0)
    for attempt in range(8):
        nominal = min(10.0, 2.0 ** attempt)
        for _ in range(50):
            d = backoff_delay(attempt, s, rng, None)
            assert 0.5 * nominal <= d <= 1.5 * nominal
    assert backoff_delay(3, s, rng, retry_after=500.0) == s.max_retry_after


def test_consecutive_failures_stop_the_run():
    """Calls that keep failing (here: 400 on every request) are recorded failures until
    max_consecutive_failures in a row, then AgentFatalError; a success resets the count."""
    script = [Behavior("server_error", status=400)] * 2 + ["ok"] + [Behavior("server_error", status=400)] * 3
    with FakeOpenAIServer("fine", script=script) as server:
        agent = make_agent(server, max_consecutive_failures=3)

        async def go():
            out = []
            try:
                for i in range(6):
                    out.append(await agent.act(dict(OBS, instruction=f"task {i}"), StepContext("e", "closed_loop")))
            finally:
                await agent.aclose()
            return out

        with pytest.raises(AgentFatalError, match="3 API calls in a row failed"):
            asyncio.run(go())
    assert len(server.requests) == 6


def test_unreachable_endpoint_is_fatal_after_one_calls_retries():
    """Nothing listens on the base URL: the first call's retries all fail to connect and the agent
    raises AgentFatalError naming the URL, instead of recording a failure per step."""
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    agent = OpenAIAgent("fake-vlm", family="closed_loop", api_key="sk-test", base_url=f"http://127.0.0.1:{port}/v1",
                        settings=AgentSettings(timeout=2.0, max_retries=2, jitter=0.0), sleep=sleeps)
    with pytest.raises(AgentFatalError, match=f"cannot reach http://127.0.0.1:{port}/v1"):
        act(agent)
    assert len(sleeps.waits) == 2, "the call's own retries still happen first"


def test_dropped_connections_after_the_endpoint_answered_stay_recorded_failures():
    """Once the endpoint has answered, connection errors that outlast the retries are a failed step,
    not fatal (a flaky network must not stop a long run)."""
    with FakeOpenAIServer("ok", script=["ok"] + ["drop"] * 3) as server:
        agent = make_agent(server, max_retries=2)

        async def go():
            try:
                first = await agent.act(OBS, StepContext("e", "closed_loop"))
                second = await agent.act(dict(OBS, instruction="other"), StepContext("e", "closed_loop"))
            finally:
                await agent.aclose()
            return first, second

        first, second = asyncio.run(go())
    assert first.text == "ok" and first.error is None
    assert second.text == "" and "connection lost" in second.error and second.infra_failure


def test_a_trickling_response_is_cut_by_the_total_request_deadline():
    """A server that sends a byte every 0.2 s never trips a per-read timeout; the request's total
    deadline (timeout=1 s) ends it, and the retry gets the answer."""
    import time

    with FakeOpenAIServer("ok", script=[Behavior("trickle", delay=0.2)]) as server:
        t0 = time.monotonic()
        reply = act(make_agent(server, timeout=1.0))
        elapsed = time.monotonic() - t0
    assert reply.text == "ok" and reply.attempts == 2 and elapsed < 10
