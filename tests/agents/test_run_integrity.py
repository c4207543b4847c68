"""Run integrity (issue 10), checked from outside: real ``egym eval`` processes against the fake
OpenAI server where the claim is about processes (the lock, outages, hangs, Ctrl-C, resume
refusals, a shared cache), the library where it is about data (logs, redaction, validation)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import toy_env  # noqa: F401  (registers EgymToy-v0)

import embodied_gym.envs.light  # noqa: F401  (registers EgymLightClosedLoop-v0)
from embodied_gym.agents.fake_server import Behavior, FakeOpenAIServer
from embodied_gym.eval import EvalConfig, run_eval
from embodied_gym.eval.lock import RunDirLocked, RunLock

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-integrity-0123456789abcdefXYZ"


def egym(out, base_url, *extra, episodes=6, concurrency=2, config=None):
    cmd = [sys.executable, "-m", "embodied_gym.cli", "eval", "--env", "toy_env:EgymToy-v0", "--episodes",
           f"toy:{episodes}", "--agent", "openai:fake-vlm", "--base-url", base_url, "--concurrency", str(concurrency),
           "--out", str(out), "--no-progress"]
    if config is not None:
        cmd += ["--config", str(config)]
    return cmd + list(extra)


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests" / "agents"), env.get("PYTHONPATH", "")])
    env["OPENAI_API_KEY"] = KEY
    env.pop("OPENAI_BASE_URL", None)
    return env


def run_cli(cmd, timeout=240):
    return subprocess.run(cmd, env=child_env(), cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def fast_config(tmp_path, name="fast.json", **fields):
    path = tmp_path / name
    path.write_text(json.dumps({"max_retries": 1, "backoff_base": 0.01, "jitter": 0.0, "timeout": 5, **fields}))
    return path


def lines(path):
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def valid_reply(body):
    """A model whose every reply is a valid action (never Finish: episodes end by truncation)."""
    return "<think>go on</think><answer>MoveForward</answer>"


# -- one run per --out -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_eval_into_a_held_out_exits_nonzero_at_once(tmp_path):
    """While a run holds --out, a second `egym eval` into it (with or without --resume) exits
    non-zero at once naming the folder and the holder's pid; the first run finishes untouched and
    pays each request once."""
    out = tmp_path / "run"
    with FakeOpenAIServer(valid_reply, latency=0.25) as server:
        first = subprocess.Popen(egym(out, server.base_url), env=child_env(), cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not server.requests:  # the first run is rolling out (it holds the lock by now)
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for extra in ((), ("--resume",)):
            t0 = time.monotonic()
            second = run_cli(egym(out, server.base_url, *extra))
            assert second.returncode != 0 and time.monotonic() - t0 < 30
            assert str(out) in second.stderr and f"pid {first.pid}" in second.stderr, second.stderr
        assert first.wait(240) == 0, first.stderr.read()
        first.stderr.close()
        steps = [r for r in lines(out / "steps.jsonl") if r["type"] == "step"]
    assert len(server.requests) == len(steps) == 6 * 8  # nobody paid twice


def test_the_lock_of_a_dead_run_is_taken_over(tmp_path):
    """flock dies with its process: a lock file left by a killed run does not block the next run,
    which records whose lock it took over; a live holder in this process blocks a second one."""
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text(json.dumps({"pid": 999999, "host": "gone", "started": "2026-01-01T00:00:00Z"}))
    with RunLock(out) as lock:
        assert lock.previous["pid"] == 999999
        with pytest.raises(RunDirLocked, match=f"pid {os.getpid()}"):
            RunLock(out).acquire()
    with RunLock(out) as again:  # released at exit
        assert again.previous["pid"] == os.getpid() and again.previous.get("released")


# -- outages are not model errors ----------------------------------------------------------------


@pytest.mark.slow
def test_an_http_500_outage_then_resume_gives_invalid_action_rate_zero(tmp_path):
    """A run stopped by an HTTP 500 outage, resumed against the recovered endpoint, reports
    invalid_action_rate 0 for a model whose every real reply is valid; the outage is counted as
    infrastructure failures, not as steps."""
    out = tmp_path / "run"
    config = fast_config(tmp_path, max_consecutive_failures=2)
    with FakeOpenAIServer(valid_reply, script=["ok"] * 10 + ["server_error"] * 200) as server:
        stopped = run_cli(egym(out, server.base_url, config=config))
        assert stopped.returncode != 0 and "in a row failed" in stopped.stderr, stopped.stderr
        assert any(r["type"] == "infra_failure" for r in lines(out / "steps.jsonl"))
        server.script.clear()  # the endpoint recovers
        resumed = run_cli(egym(out, server.base_url, "--resume", config=config))
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["n"] == 6 and summary["overall"]["invalid_action_rate"] == 0
    assert all(g["invalid_action_rate"] == 0 for g in summary["by_category"].values())
    assert summary["run"]["invalid_actions"] == 0 and summary["run"]["infra_failures"] >= 1
    assert summary["run"]["steps"] == 6 * 8


# -- hangs stop ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_endpoint_that_accepts_and_never_answers_stops_the_run(tmp_path):
    """A server that accepts connections and never answers: the run exits non-zero, saying so,
    within first_answer_deadline (3 s here) plus start-up, although each request's timeout
    (60 s, the default) is far longer. With the defaults the deadline is 150 s (under 3 min)."""
    config = fast_config(tmp_path, timeout=60, max_retries=5, first_answer_deadline=3)
    with FakeOpenAIServer(valid_reply, latency=3600) as server:
        t0 = time.monotonic()
        done = run_cli(egym(tmp_path / "run", server.base_url, config=config), timeout=120)
        elapsed = time.monotonic() - t0
    assert done.returncode != 0 and "has not answered any request" in done.stderr, done.stderr
    assert elapsed < 45, elapsed


def test_default_first_answer_deadline_stops_a_silent_endpoint_within_3_minutes():
    """The documented default bound: a run against an endpoint that never answers stops once
    first_answer_deadline has passed; the default leaves a margin under 3 minutes for start-up and
    shutdown (the issue's contract allows 4)."""
    from embodied_gym.agents.settings import AgentSettings

    assert AgentSettings().first_answer_deadline <= 150


def test_a_long_wait_is_shown_on_the_progress_display():
    """waiting_for() names the endpoint, the attempt and what the last attempt ran into."""
    import asyncio

    from embodied_gym.agents.base import StepContext
    from embodied_gym.agents.openai_agent import OpenAIAgent
    from embodied_gym.agents.settings import AgentSettings

    with FakeOpenAIServer("<answer>Finish</answer>", latency=1.0) as server:
        agent = OpenAIAgent("fake-vlm", family="closed_loop", api_key="k", base_url=server.base_url,
                            settings=AgentSettings(timeout=5))

        async def go():
            task = asyncio.ensure_future(agent.act({"instruction": "x", "step": 0}, StepContext("e", "closed_loop")))
            await asyncio.sleep(0.5)
            seen = agent.waiting_for()
            await task
            await agent.aclose()
            return seen, agent.waiting_for()

        during, after = asyncio.run(go())
    assert during is not None and server.base_url in during and "attempt 1/" in during and after is None


# -- resume provenance ---------------------------------------------------------------------------


@pytest.mark.slow
def test_resume_with_another_base_url_or_config_is_refused(tmp_path):
    """--resume against another endpoint or with a config of other content is refused naming the
    field; --allow-changed accepts it and run.json records the change."""
    out = tmp_path / "run"
    cfg_a = fast_config(tmp_path, "a.json")
    cfg_b = fast_config(tmp_path, "b.json", temperature=0.5)
    with FakeOpenAIServer(valid_reply) as a, FakeOpenAIServer(valid_reply) as b:
        assert run_cli(egym(out, a.base_url, "--limit", "2", config=cfg_a)).returncode == 0
        other_url = run_cli(egym(out, b.base_url, "--resume", config=cfg_a))
        other_cfg = run_cli(egym(out, a.base_url, "--resume", config=cfg_b))
        accepted = run_cli(egym(out, b.base_url, "--resume", "--allow-changed", "endpoint", config=cfg_a))
    assert other_url.returncode == 2 and "'endpoint'" in other_url.stderr and b.base_url in other_url.stderr
    assert other_cfg.returncode == 2 and "'agent_settings'" in other_cfg.stderr
    assert accepted.returncode == 0, accepted.stderr
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["resumes"][-1]["changed"]["endpoint"] == [a.base_url, b.base_url]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["provenance"]["provenance"]["endpoint"] == b.base_url
    assert summary["run"]["provenance"]["provenance"]["git_commit"] == run_json["provenance"]["git_commit"]


def test_run_json_records_what_shapes_results(tmp_path):
    """run.json: settings after defaults, endpoint, prompt config and the prompt file's hash,
    package version; the key is nowhere."""
    with FakeOpenAIServer(valid_reply) as server:
        run_eval(EvalConfig(env_id="EgymToy-v0", episodes=None, agent="openai:fake-vlm", out=tmp_path / "r",
                            base_url=server.base_url, api_key=KEY, progress=False, limit=1))
    prov = json.loads((tmp_path / "r" / "run.json").read_text())["provenance"]
    assert prov["endpoint"] == server.base_url and prov["agent_settings"]["temperature"] == 0.0
    assert prov["agent_settings"]["first_answer_deadline"] == 150.0 and prov["prompt"]["family"] == "closed_loop"
    assert len(prov["prompt_file_sha256"]) == 64 and prov["package_version"]
    assert all(KEY not in p.read_text(errors="replace") for p in (tmp_path / "r").iterdir() if p.suffix != ".sqlite")


# -- the cache is keyed by endpoint --------------------------------------------------------------


@pytest.mark.slow
def test_runs_sharing_a_cache_against_two_endpoints_each_query_their_own(tmp_path):
    """Two servers serving the same model name: a second run with the same --cache against the
    other server asks that server for every step and logs its replies, not the first one's."""
    cache = tmp_path / "shared.sqlite"
    with FakeOpenAIServer(lambda b: "<answer>MoveForward</answer>") as a, \
            FakeOpenAIServer(lambda b: "<answer>MoveBackward</answer>") as b:
        assert run_cli(egym(tmp_path / "a", a.base_url, "--cache", str(cache))).returncode == 0
        assert run_cli(egym(tmp_path / "b", b.base_url, "--cache", str(cache))).returncode == 0
    steps_a = [r for r in lines(tmp_path / "a" / "steps.jsonl") if r["type"] == "step"]
    steps_b = [r for r in lines(tmp_path / "b" / "steps.jsonl") if r["type"] == "step"]
    assert steps_b and all("MoveBackward" in r["raw_reply"] for r in steps_b)
    # every distinct request of run B went to B (repeats within B are B's own cache hits)
    assert len(b.requests) == len({r["request_hash"] for r in steps_b})
    assert not {r["request_hash"] for r in steps_a} & {r["request_hash"] for r in steps_b}


# -- bounded parsing -----------------------------------------------------------------------------


def test_a_reply_of_16000_unclosed_answer_tags_is_an_invalid_action_not_a_stall(tmp_path):
    """The reply is logged whole, the environment gets its last REPLY_CAP characters and records an
    invalid action (the time per reply is measured by `egym bench parse`)."""
    from embodied_gym.envs.contract import REPLY_CAP

    with FakeOpenAIServer("<answer>" * 16000) as server:
        summary = run_eval(EvalConfig(env_id="EgymLightClosedLoop-v0", episodes=1, agent="openai:fake-vlm",
                                      out=tmp_path / "r", base_url=server.base_url, api_key="k", progress=False,
                                      env_kwargs={"max_steps": 2}))
    steps = [r for r in lines(tmp_path / "r" / "steps.jsonl") if r["type"] == "step"]
    assert len(steps) == 2 and summary["run"]["invalid_actions"] == 2
    assert all(len(r["raw_reply"]) == 8 * 16000 and len(r["action"]) == REPLY_CAP for r in steps)


# -- episode validation and exit status ----------------------------------------------------------


def test_a_subgoal_naming_a_missing_object_id_is_reported_in_run_errors(tmp_path, capsys):
    """A subgoal whose target id names no object of the scene ends that episode with an error
    naming the field and the id; as every episode errored, egym eval exits 1."""
    from embodied_gym.cli import main
    from embodied_gym.episodes.spec import resolve_ref

    data = json.loads(resolve_ref("house-v1:test").read_text().splitlines()[0])
    data["subgoals"][0]["target"] = 9999
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(data) + "\n")
    rc = main(["eval", "--env", "EmbodiedTask-v0", "--episodes", str(path), "--agent", "random",
               "--out", str(tmp_path / "run"), "--no-progress"])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    (error,) = summary["run"]["errors"]
    assert "subgoals[0].target" in error["error"] and "9999" in error["error"] and error["kind"] == "environment"
    assert rc == 1 and "every episode ended with an error" in capsys.readouterr().err


# -- logs for analysis, secrets, Ctrl-C -----------------------------------------------------------


def test_bear_step_lines_carry_skill_question_options_and_ground_truth(tmp_path):
    run_eval(EvalConfig(env_id="BearLongHorizon-v0", episodes="bear-lh-v2:test", agent="random", out=tmp_path / "r",
                        progress=False, limit=1))
    steps = [r for r in lines(tmp_path / "r" / "steps.jsonl") if r["type"] == "step"]
    assert steps and all({"skill", "ground_truth", "question_id", "options", "score"} <= set(r) for r in steps)
    assert steps[0]["question_id"].endswith("/q0") and steps[0]["skill"]


def test_an_echoed_api_key_is_redacted_from_logs_summaries_and_errors(tmp_path, capsys):
    """A 400 whose text echoes the key (an infrastructure failure) and a 401 that echoes it (fatal):
    the key appears in no file of the run directory and not on stderr."""
    from embodied_gym.cli import main

    echo = f"Incorrect API key provided: {KEY}. You can find your key at ..."
    script = [Behavior("server_error", status=400, message=echo), Behavior("server_error", status=401, message=echo)]
    with FakeOpenAIServer(valid_reply, script=script) as server:
        rc = main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "openai:fake-vlm", "--base-url",
                   server.base_url, "--api-key", KEY, "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "401" in err and "[REDACTED]" in err and KEY not in err and KEY[-12:] not in err
    infra = [r for r in lines(tmp_path / "run" / "steps.jsonl") if r["type"] == "infra_failure"]
    assert infra and "[REDACTED]" in infra[0]["error"]
    for p in (tmp_path / "run").iterdir():
        if p.is_file() and p.suffix != ".sqlite":
            assert KEY not in p.read_text(errors="replace") and KEY[-12:] not in p.read_text(errors="replace"), p


@pytest.mark.slow
def test_ctrl_c_ends_with_one_line_and_a_resumable_run(tmp_path):
    """SIGINT mid-run: exit 130, one line on stderr (no traceback); --resume then finishes."""
    out = tmp_path / "run"
    with FakeOpenAIServer(valid_reply, latency=0.2) as server:
        proc = subprocess.Popen(egym(out, server.base_url), env=child_env(), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while len(server.requests) < 5:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        err = proc.stderr.read()
        assert proc.wait(60) == 130
        proc.stderr.close()
        resumed = run_cli(egym(out, server.base_url, "--resume"))
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "--resume" in err, err
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((out / "summary.json").read_text())["overall"]["n"] == 6


def test_a_binary_episodes_file_is_an_error_naming_the_file(tmp_path, capsys):
    from embodied_gym.cli import main

    path = tmp_path / "episodes.jsonl"
    path.write_bytes(b"\x00\x01\xff\xfe not text")
    rc = main(["eval", "--env", "EmbodiedTask-v0", "--episodes", str(path), "--agent", "random",
               "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and str(path) in err and "UTF-8" in err


def test_redactor_masks_secrets_and_their_parts_but_not_placeholders():
    from embodied_gym.agents.redact import Redactor

    r = Redactor([KEY, "EMPTY", "bench"])  # short values are placeholders, not secrets
    assert r(f"key {KEY}.") == "key [REDACTED]."
    assert KEY[5:22] not in r(f"shown as ****{KEY[5:22]} here")
    assert r("Authorization: Bearer abcdef123456") == "Authorization: Bearer [REDACTED]"
    assert r("EMPTY bench-model reply") == "EMPTY bench-model reply"
