"""``egym eval`` killed with SIGKILL mid-run and re-run with ``--resume``: no request whose answer
the first process had received is sent again, and summary.json counts every episode once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embodied_gym.agents.cache import request_key
from embodied_gym.agents.fake_server import FakeOpenAIServer
from embodied_gym.agents.openai_agent import cache_namespace

ROOT = Path(__file__).resolve().parents[2]
N_EPISODES = 12
CONCURRENCY = 3


def eval_cmd(server, out, *extra):
    return [sys.executable, "-m", "embodied_gym.cli", "eval", "--env", "toy_env:EgymToy-v0",
            "--episodes", f"toy:{N_EPISODES}", "--agent", "openai:fake-vlm", "--base-url", server.base_url,
            "--concurrency", str(CONCURRENCY), "--out", str(out), "--no-progress", *extra]


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests" / "agents"), env.get("PYTHONPATH", "")])
    env["OPENAI_API_KEY"] = "sk-from-env"
    env.pop("OPENAI_BASE_URL", None)
    return env


@pytest.mark.slow
def test_sigkill_then_resume_never_resends_an_answered_request(tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(latency=0.02) as server:
        proc = subprocess.Popen(eval_cmd(server, out), env=child_env(), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while len(server.answered()) < 30:  # wait until the run is well under way
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        n_first = len(server.requests)

        # what the killed process had received and stored
        with sqlite3.connect(out / "cache.sqlite") as db:
            received = {row[0] for row in db.execute("SELECT key FROM responses")}
        assert received and not (out / "summary.json").exists()

        done = subprocess.run(eval_cmd(server, out, "--resume"), env=child_env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    assert all(r["headers"]["authorization"] == "Bearer sk-from-env" for r in server.requests)
    assert all(r["path"] == "/v1/chat/completions" for r in server.requests)
    second = [request_key(cache_namespace(server.base_url), r["body"]) for r in server.requests[n_first:]]
    assert second, "the resumed run had nothing left to ask"
    assert not set(second) & received, "an answered request was sent again"
    # at most the requests in flight at the kill can be repeated
    all_keys = [request_key(cache_namespace(server.base_url), r["body"]) for r in server.requests]
    assert len(all_keys) - len(set(all_keys)) <= CONCURRENCY

    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["n"] == N_EPISODES and summary["run"]["n_errors"] == 0
    ends = [json.loads(x)["episode_id"] for x in (out / "steps.jsonl").read_text().splitlines()
            if json.loads(x)["type"] == "episode"]
    assert sorted(ends) == sorted(set(ends)) and len(ends) == N_EPISODES
    # every logged step corresponds to exactly one model answer (fresh or cached)
    steps = [json.loads(x) for x in (out / "steps.jsonl").read_text().splitlines() if '"type": "step"' in x]
    assert summary["run"]["steps"] == len(steps) == len({(s["episode_id"], s["step"]) for s in steps})
