"""The evaluation runner on a small deterministic env (toy_env.py) and the fake OpenAI server:
results, the step log, failures that the run survives, the cache across re-runs, resume."""

from __future__ import annotations

import json
import threading

import pytest
import toy_env  # noqa: F401  (registers EgymToy-v0)

from embodied_gym.agents.fake_server import Behavior, FakeOpenAIServer
from embodied_gym.agents.openai_agent import cache_namespace
from embodied_gym.eval import EvalConfig, run_eval
from embodied_gym.eval.runlog import read_log

STEP_KEYS = {"request_hash", "prompt", "raw_reply", "parsed_action", "reward", "score", "latency_s",
             "prompt_tokens", "completion_tokens", "cost", "cached"}


def oracle_policy(body):
    """Answers like the oracle by reading the cell from the prompt's instruction and image-free text."""
    return "<think>go</think><answer>MoveForward</answer>"


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def evaluate(tmp_path, agent, name="run", **kw):
    cfg = dict(env_id="EgymToy-v0", episodes=None, agent=agent, out=tmp_path / name, progress=False)
    cfg.update(kw)
    return run_eval(EvalConfig(**cfg))


def test_oracle_solves_every_episode(tmp_path):
    """The oracle reads env.unwrapped.oracle_action() (on the env thread) and scores 1.0."""
    summary = evaluate(tmp_path, "oracle", concurrency=3)
    assert summary["overall"]["success_rate"] == 1.0 and summary["overall"]["n"] == 6
    assert summary["run"]["n_errors"] == 0
    md = (tmp_path / "run" / "summary.md").read_text()
    assert "## By category" in md and "| exploration |" in md and "## By split" in md


def test_random_agent_is_deterministic(tmp_path):
    """Same seed, same actions: two random runs log the same replies."""
    evaluate(tmp_path, "random", "a", seed=3)
    evaluate(tmp_path, "random", "b", seed=3)
    a = [r["raw_reply"] for r in lines(tmp_path / "a" / "steps.jsonl") if r["type"] == "step"]
    b = [r["raw_reply"] for r in lines(tmp_path / "b" / "steps.jsonl") if r["type"] == "step"]
    assert a == b and len(set(a)) > 2


def test_env_calls_all_run_on_one_thread(tmp_path, monkeypatch):
    """Every reset/step/oracle call happens on the same non-main worker thread."""
    seen = set()
    orig_step, orig_reset = toy_env.ToyEnv.step, toy_env.ToyEnv.reset

    def step(self, a):
        seen.add(threading.get_ident())
        return orig_step(self, a)

    def reset(self, *, seed=None, options=None):
        seen.add(threading.get_ident())
        return orig_reset(self, seed=seed, options=options)

    monkeypatch.setattr(toy_env.ToyEnv, "step", step)
    monkeypatch.setattr(toy_env.ToyEnv, "reset", reset)
    evaluate(tmp_path, "oracle", concurrency=4)
    assert len(seen) == 1 and threading.get_ident() not in seen


def test_api_agent_run_logs_every_step(tmp_path, monkeypatch):
    """An openai:MODEL run at concurrency 4: one request per step, each step logged with its hash,
    prompt, raw reply, parsed action, score, latency and tokens; summary counts all episodes."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key")
    with FakeOpenAIServer(oracle_policy, latency=0.02) as server:
        summary = evaluate(tmp_path, "openai:fake-vlm", base_url=server.base_url, concurrency=4)
    recs = lines(tmp_path / "run" / "steps.jsonl")
    steps = [r for r in recs if r["type"] == "step"]
    episodes = [r for r in recs if r["type"] == "episode"]
    assert len(episodes) == 6 and len({e["episode_id"] for e in episodes}) == 6
    assert len(steps) == len(server.requests) == summary["run"]["requests"]
    assert all(STEP_KEYS <= set(s) for s in steps)
    assert all(s["parsed_action"] == "MoveForward" and s["request_hash"] for s in steps)
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-env-key"
    assert summary["overall"]["n"] == 6 and summary["run"]["prompt_tokens"] > 0 and summary["run"]["cost_usd"] > 0
    assert summary["run"]["cost_known"]  # "fake-" models are priced in configs/prices.json


def test_garbage_is_the_models_invalid_action_but_failed_calls_are_infrastructure(tmp_path):
    """A garbage reply is the model's invalid action. Empty completions, malformed bodies and 500s
    that outlast the retries are infrastructure failures (issue 10): logged as such, not steps, not
    invalid actions, the episode left incomplete; --resume asks again and completes it."""
    script = [Behavior("ok", content="I refuse to answer"), "empty", "malformed", "malformed", "server_error",
              "server_error"]
    settings = tmp_path / "agent.json"
    settings.write_text(json.dumps({"max_retries": 1, "backoff_base": 0.01, "timeout": 5}))
    with FakeOpenAIServer(oracle_policy, script=script) as server:
        summary = evaluate(tmp_path, "openai:fake-vlm", base_url=server.base_url, api_key="k", config=str(settings))
        recs = lines(tmp_path / "run" / "steps.jsonl")
        steps = [r for r in recs if r["type"] == "step"]
        infra = [r for r in recs if r["type"] == "infra_failure"]
        assert summary["overall"]["n"] == 4 and summary["run"]["n_incomplete"] == 2
        assert summary["run"]["invalid_actions"] == 1 and summary["run"]["infra_failures"] == 2 == len(infra)
        assert all(r["error"].startswith("API call failed") for r in infra)
        assert not any(s["raw_reply"] == "" for s in steps)
        kinds = {e["episode_id"]: e["kind"] for e in summary["run"]["errors"]}
        assert kinds == {"toy-000": "infrastructure", "toy-001": "infrastructure"}
        resumed = evaluate(tmp_path, "openai:fake-vlm", base_url=server.base_url, api_key="k", config=str(settings),
                           resume=True)
    assert resumed["overall"]["n"] == 6 and resumed["run"]["n_errors"] == 0
    assert resumed["run"]["invalid_actions"] == 1  # the garbage reply, and nothing else


def test_environment_failure_ends_only_that_episode(tmp_path):
    """An exception inside env.step ends that episode with an error record; the others finish."""
    summary = evaluate(tmp_path, "oracle", env_kwargs={"fail_on": ("toy-002",), "max_steps": 8})
    assert summary["overall"]["n"] == 5 and summary["run"]["n_errors"] == 1
    assert summary["run"]["errors"][0]["episode_id"] == "toy-002"
    assert "injected environment failure" in summary["run"]["errors"][0]["error"]


def test_rerun_with_shared_cache_sends_no_request(tmp_path):
    """A second run into a new directory with the same --cache pays nothing: zero HTTP requests."""
    cache = str(tmp_path / "shared.sqlite")
    with FakeOpenAIServer(oracle_policy) as server:
        first = evaluate(tmp_path, "openai:fake-vlm", "one", base_url=server.base_url, api_key="k", cache=cache)
        n = len(server.requests)
        second = evaluate(tmp_path, "openai:fake-vlm", "two", base_url=server.base_url, api_key="k", cache=cache)
    assert len(server.requests) == n
    assert second["run"]["cache_hits"] == first["run"]["steps"] and second["run"]["cost_usd"] == 0
    assert second["overall"] == first["overall"]


def test_resume_replays_logged_steps_without_the_agent(tmp_path):
    """Cut a finished run's log in the middle of an episode (plus a torn line), resume: logged steps
    are re-fed to the env, no logged request is sent again, results equal the uninterrupted run."""
    with FakeOpenAIServer(oracle_policy) as server:
        full = evaluate(tmp_path, "openai:fake-vlm", "full", base_url=server.base_url, api_key="k")
        ref = lines(tmp_path / "full" / "steps.jsonl")
        cut = [r for r in ref if r["type"] == "episode"][2]
        keep = ref[: ref.index(cut) - 1]  # drop the last step of the 3rd finished episode and its end record
        out = tmp_path / "resumed"
        out.mkdir()
        (out / "steps.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep) + '{"type": "st')
        before = len(server.requests)
        resumed = evaluate(tmp_path, "openai:fake-vlm", "resumed", base_url=server.base_url, api_key="k", resume=True)
    sent_again = [r["body"] for r in server.requests[before:]]
    logged_hashes = {r["request_hash"] for r in keep if r["type"] == "step"}
    from embodied_gym.agents.cache import request_key

    assert not {request_key(cache_namespace(server.base_url), b) for b in sent_again} & logged_hashes
    assert resumed["overall"] == full["overall"]
    steps, finals = read_log(out / "steps.jsonl")
    assert len(finals) == 6 and resumed["run"]["steps"] == full["run"]["steps"]


def test_existing_run_needs_resume_and_same_settings(tmp_path):
    """A non-empty --out without --resume, or a resume with another agent, is a ValueError (a
    ConfigError naming the fields: out, resume)."""
    evaluate(tmp_path, "oracle")
    with pytest.raises(ValueError, match="continue it with resume"):
        evaluate(tmp_path, "oracle")
    with pytest.raises(ValueError, match="agent"):
        evaluate(tmp_path, "random", resume=True)
    again = evaluate(tmp_path, "oracle", resume=True)  # nothing left to do: same summary
    assert again["overall"]["n"] == 6 and again["run"]["this_run"]["steps"] == 0


def test_missing_api_key_is_a_clear_error(tmp_path, monkeypatch):
    """openai:MODEL against api.openai.com without a key: ValueError naming OPENAI_API_KEY, CLI exit 2."""
    from embodied_gym.cli import main

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        evaluate(tmp_path, "openai:gpt-4o")
    assert main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "openai:gpt-4o",
                 "--out", str(tmp_path / "cli"), "--no-progress"]) == 2


def test_auth_failure_stops_the_run_and_resume_finishes_it(tmp_path):
    """A 401 mid-run stops the run (AgentFatalError) with the steps so far logged; after the key is
    fixed, --resume finishes every episode without re-sending answered requests."""
    from embodied_gym.agents.base import AgentFatalError

    with FakeOpenAIServer(oracle_policy, script=["ok"] * 5 + [Behavior("server_error", status=401)]) as server:
        with pytest.raises(AgentFatalError, match="401"):
            evaluate(tmp_path, "openai:fake-vlm", base_url=server.base_url, api_key="bad")
        logged = [r for r in lines(tmp_path / "run" / "steps.jsonl") if r["type"] == "step"]
        assert len(logged) == 5
        before = len(server.requests)
        summary = evaluate(tmp_path, "openai:fake-vlm", base_url=server.base_url, api_key="good", resume=True)
    from embodied_gym.agents.cache import request_key

    resent = {request_key(cache_namespace(server.base_url), r["body"]) for r in server.requests[before:]}
    assert not resent & {r["request_hash"] for r in logged}
    assert summary["overall"]["n"] == 6 and summary["run"]["steps"] == summary["run"]["this_run"]["steps"] + 5


def test_resume_retries_episodes_that_ended_with_an_error(tmp_path):
    """An episode ended by an environment exception is not finished: --resume replays its logged
    steps and completes it; the summary then counts all six episodes and no error."""
    first = evaluate(tmp_path, "oracle", env_kwargs={"fail_on": ("toy-002",)})
    assert first["run"]["n_errors"] == 1
    # the fault is gone: env_kwargs changed, accepted explicitly (provenance refuses it otherwise)
    second = evaluate(tmp_path, "oracle", resume=True, allow_changed=["env_kwargs"])
    assert second["run"]["n_errors"] == 0 and second["overall"]["n"] == 6
    assert second["run"]["provenance"]["resumes"][-1]["changed"]["env_kwargs"] == [{"fail_on": ["toy-002"]}, {}]
    assert second["run"]["this_run"]["replayed_steps"] == 2  # toy-002 failed in its third step


def test_unknown_env_id_is_a_clear_cli_error(tmp_path, capsys):
    """egym eval with an --env id Gymnasium does not know exits 2 with a message naming the id
    (Gymnasium's NameNotFound), not a traceback."""
    from embodied_gym.cli import main

    rc = main(["eval", "--env", "NoSuchEnv-v0", "--episodes", "toy:2", "--agent", "random",
               "--out", str(tmp_path / "cli"), "--no-progress"])
    assert rc == 2
    assert "NoSuchEnv" in capsys.readouterr().err


def test_a_cache_file_that_is_not_sqlite_is_a_clear_cli_error(tmp_path, capsys):
    """--cache pointing at a file that is not an SQLite database exits 2 with a message naming the
    file (sqlite3.DatabaseError would otherwise escape as a traceback)."""
    from embodied_gym.cli import main

    bad = tmp_path / "notes.txt"
    bad.write_text("not a database\n" * 10)
    rc = main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "random",
               "--out", str(tmp_path / "cli"), "--no-progress", "--cache", str(bad)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "notes.txt" in err and "response cache" in err


def test_an_out_dir_that_cannot_be_created_is_a_clear_cli_error(tmp_path, capsys):
    """--out below a regular file exits 2 with the OS error naming the path, not a traceback."""
    from embodied_gym.cli import main

    (tmp_path / "file").write_text("x")
    rc = main(["eval", "--env", "EgymToy-v0", "--episodes", "toy:2", "--agent", "random",
               "--out", str(tmp_path / "file" / "run"), "--no-progress"])
    assert rc == 2
    assert "Not a directory" in capsys.readouterr().err


def test_cli_warns_on_stderr_when_episodes_ended_with_an_error(tmp_path, capsys):
    """An episode whose scene the backend rejects is a recorded failure (run.errors), and egym eval
    says so on stderr; as it was the only episode, every episode errored: exit 1 (issue 10)."""
    from embodied_gym.cli import main
    from embodied_gym.episodes.spec import resolve_ref

    data = json.loads(resolve_ref("house-v1:test").read_text().splitlines()[0])
    data["scene"]["rooms"] = "not a list"
    path = tmp_path / "broken_scene.jsonl"
    path.write_text(json.dumps(data) + "\n")
    rc = main(["eval", "--env", "EmbodiedTask-v0", "--episodes", str(path), "--agent", "random",
               "--out", str(tmp_path / "run"), "--no-progress"])
    assert rc == 1
    assert "1 episode(s) ended with an error" in capsys.readouterr().err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["run"]["n_errors"] == 1 and "rooms" in summary["run"]["errors"][0]["error"]
