"""``egym eval``: roll out an agent on many episodes at once, logged, cached and resumable.

:func:`run_eval` runs every episode of ``config.episodes`` (or the first ``config.limit``) through
``config.env_id`` with ``config.agent``, ``config.concurrency`` episodes at a time, and writes to
``config.out``:

* ``steps.jsonl``: the append-only log, one JSON object per line, flushed as soon as written.
  ``{"type": "step", "episode_id", "step", "request_hash", "prompt", "raw_reply", "action",
  "parsed_action", "invalid_action", "reward", "score", "latency_s", "t" (unix time), "prompt_tokens",
  "completion_tokens", "cost", "cached", "attempts", "error", "obs_hash", "terminated",
  "truncated", "feedback"}`` per step and ``{"type": "episode", "episode_id", "result"}``
  (or ``"error"``) when an episode ends.
* ``run.json`` (what was run: env, agent, episodes, seed), ``cache.sqlite`` (the response cache,
  unless ``config.cache`` points elsewhere), ``summary.json`` and ``summary.md``.

Concurrency: the agent calls run on the asyncio event loop; *every* environment call (creation,
``reset``, ``step``, ``oracle_action``, ``close``) runs on one dedicated worker thread
(:func:`env_thread`, shared by all runs of the process), because
OpenGL contexts belong to the thread that made them and so rendering never blocks the loop.
``concurrency`` environment instances are created and reused.

Resume (``config.resume``): episodes with an ``episode`` record holding a result are skipped
(the logged result is reused); an unfinished episode, or one that ended with an error, is rebuilt
by resetting its environment and re-feeding the logged actions (environments are deterministic
for a given episode and seed), without calling the agent, then continues. Requests answered before the kill but not yet logged are answered by the response
cache. So no answered request is sent twice and every episode is counted once.

Failures: an agent error or a failed API call is a failed step (empty reply, scored as an invalid
action by the environment); an exception inside the environment ends that episode with an
``error`` record (listed under ``summary["run"]["errors"]``); only :class:`AgentFatalError`
(authentication, unknown model) stops the run, with everything so far kept for ``--resume``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import Agent, AgentFatalError, AgentReply, StepContext
from .runlog import jsonable, obs_hash, read_log, summarize

log = logging.getLogger("embodied_gym.eval")

SUCCESS_KEYS = ("success", "episode_success")


@dataclass
class EvalConfig:
    """One evaluation run (the flags of ``egym eval``).

    ``env_id``: a registered Gymnasium id (``EmbodiedTask-v0``, ``BearLongHorizon-v0``, ... or
    ``"module:Id"``). ``episodes``: a ``.jsonl``/``.json`` path, ``"SUITE:SPLIT"``, a list of
    episodes, or ``None`` for the environment's default set. ``agent``: an ``--agent`` spec
    (``oracle``, ``random``, ``openai:MODEL``, ``blind:MODEL``, ``hf:PATH``) or an
    :class:`~embodied_gym.agents.base.Agent` (closed with ``aclose`` when the run ends). ``out``:
    the run directory. ``concurrency``:
    episodes in flight at once. ``resume``: continue the run in ``out`` (without it, a non-empty
    ``out`` is an error). ``base_url`` / ``api_key``: the OpenAI-compatible endpoint (default
    ``$OPENAI_BASE_URL`` / ``$OPENAI_API_KEY``). ``limit``: only the first N episodes. ``seed``:
    passed to every ``env.reset`` and to random agents. ``config``: an agent settings file (JSON or
    YAML, see :class:`~embodied_gym.agents.settings.AgentSettings`). ``progress``: show a progress
    bar on stderr. ``cache``: the SQLite response cache (default ``out/cache.sqlite``; share one
    file between runs to never pay twice). ``env_kwargs``: extra keyword arguments for
    ``gym.make``. ``max_steps_cap``: an episode still running after this many steps is ended
    as an error (guards against environments that never truncate)."""

    env_id: str
    episodes: Any
    agent: str | Agent
    out: Path
    concurrency: int = 1
    resume: bool = False
    base_url: str | None = None
    api_key: str | None = None
    limit: int | None = None
    seed: int = 0
    config: str | None = None
    progress: bool = True
    cache: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    max_steps_cap: int = 1000

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.concurrency < 1:
            raise ValueError(f"--concurrency must be >= 1, got {self.concurrency}")
        if self.limit is not None and self.limit < 1:
            raise ValueError(f"--limit must be >= 1, got {self.limit}")


_ENV_THREAD: ThreadPoolExecutor | None = None


def env_thread() -> ThreadPoolExecutor:
    """The process-wide environment thread: one thread for every environment call of every run in
    this process (a GL context made on one thread cannot be used from another, and simulator
    backends may share one context per process)."""
    global _ENV_THREAD
    if _ENV_THREAD is None:
        _ENV_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="egym-env")
    return _ENV_THREAD


def run_eval(config: EvalConfig) -> dict[str, Any]:
    """Run (or resume) an evaluation; returns the summary also written to ``out/summary.json``."""
    return asyncio.run(_Run(config).main())


def _episode_id(ep: Any) -> str:
    return str(ep["id"] if isinstance(ep, dict) else ep.id)


# ---------------------------------------------------------------------------------------------
# environment side (runs on the worker thread only)


def _make_env(env_id: str, episodes: Any, kwargs: dict[str, Any]) -> Any:
    import gymnasium as gym

    import embodied_gym  # noqa: F401  (registers the ids)

    if episodes is not None:
        kwargs = {**kwargs, "episodes": episodes}
    env = gym.make(env_id, **kwargs)
    if isinstance(env.action_space, gym.spaces.Discrete):
        from ..envs.wrappers import TextAction

        env = TextAction(env)
    return env


def _reset(env: Any, episode_id: str, seed: int, oracle: bool) -> tuple[Any, Any]:
    obs, _info = env.reset(seed=seed, options={"episode_id": episode_id})
    return obs, (env.unwrapped.oracle_action() if oracle else None)


def _step(env: Any, action: str, oracle: bool) -> tuple:
    obs, reward, terminated, truncated, info = env.step(action)
    done = bool(terminated or truncated)
    return obs, float(reward), bool(terminated), bool(truncated), info, (
        env.unwrapped.oracle_action() if oracle and not done else None
    )


# ---------------------------------------------------------------------------------------------


class _Run:
    def __init__(self, config: EvalConfig) -> None:
        self.cfg = config
        self.out = config.out
        self.log_path = self.out / "steps.jsonl"
        self.worker = env_thread()
        self.totals = {"steps": 0, "requests": 0, "cache_hits": 0, "failed_calls": 0, "prompt_tokens": 0,
                       "completion_tokens": 0, "cost_usd": 0.0, "replayed_steps": 0, "replay_mismatches": 0}
        self.finals: dict[str, dict] = {}
        self.bar: Any = None

    async def env_call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    def write(self, record: dict[str, Any]) -> None:
        self._log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._log.flush()

    # -- set-up ----------------------------------------------------------------------------
    def _check_out(self) -> tuple[dict[str, list[dict]], dict[str, dict]]:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        ident = {"env_id": cfg.env_id, "agent": cfg.agent if isinstance(cfg.agent, str) else getattr(cfg.agent, "name", "custom"),
                 "episodes": cfg.episodes if isinstance(cfg.episodes, (str, int, type(None))) else "<list>", "seed": cfg.seed}
        run_json = self.out / "run.json"
        has_log = self.log_path.exists() and self.log_path.stat().st_size > 0
        if not cfg.resume:
            if has_log:
                raise ValueError(f"{self.out} already holds a run (steps.jsonl); pass --resume to continue it or choose another --out")
        elif run_json.exists():
            old = json.loads(run_json.read_text())
            for key, value in ident.items():
                if old.get(key) != value:
                    raise ValueError(f"--resume: {run_json}: field '{key}' was {old.get(key)!r}, now {value!r}; use another --out")
        run_json.write_text(json.dumps({**ident, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
        return read_log(self.log_path) if cfg.resume else ({}, {})

    async def main(self) -> dict[str, Any]:
        cfg = self.cfg
        t0 = time.perf_counter()
        logged_steps, self.finals = self._check_out()
        first = await self.env_call(_make_env, cfg.env_id, cfg.episodes, dict(cfg.env_kwargs))
        return await self._main(first, logged_steps, t0)

    async def _main(self, first: Any, logged_steps: dict, t0: float) -> dict[str, Any]:
        cfg = self.cfg
        envs: list[Any] = [first]
        self.cache = self.agent = self._log = None
        try:
            unwrapped = first.unwrapped
            self.family = str(unwrapped.metadata.get("family", "closed_loop"))
            ids = [_episode_id(e) for e in unwrapped.episodes]
            if cfg.limit is not None:
                ids = ids[: cfg.limit]
            if not ids:
                raise ValueError(f"{cfg.env_id}: no episodes to evaluate (episodes={cfg.episodes!r})")
            # an episode that ended with an error (no result) is retried on resume
            todo = [ep for ep in ids if (self.finals.get(ep) or {}).get("result") is None]
            todo.sort(key=lambda ep: ep not in logged_steps)  # unfinished episodes first
            from .cache import ResponseCache
            from .factory import make_agent
            from .settings import AgentSettings

            self.cache = ResponseCache(cfg.cache or self.out / "cache.sqlite")
            if isinstance(cfg.agent, Agent):
                self.agent = cfg.agent
            else:
                self.agent = make_agent(cfg.agent, family=self.family, settings=AgentSettings.load(cfg.config),
                                        base_url=cfg.base_url, api_key=cfg.api_key, cache=self.cache)
            for _ in range(min(cfg.concurrency, len(todo)) - 1):
                envs.append(await self.env_call(_make_env, cfg.env_id, cfg.episodes, dict(cfg.env_kwargs)))
            pool: asyncio.Queue = asyncio.Queue()
            for env in envs:
                pool.put_nowait(env)
            self._setup_bar(ids)
            self._log = open(self.log_path, "a", encoding="utf-8")
            t_rollout = time.perf_counter()

            async def one(ep: str) -> None:
                env = await pool.get()
                try:
                    await self._episode(env, ep, logged_steps.get(ep, []))
                finally:
                    pool.put_nowait(env)

            tasks = [asyncio.ensure_future(one(ep)) for ep in todo]
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
        finally:
            if self._log is not None:
                self._log.close()
            if self.bar is not None:
                self.bar.close()
            if self.agent is not None:
                await self.agent.aclose()
            for env in envs:
                await self.env_call(env.close)
            if self.cache is not None:
                self.cache.close()
        end = time.perf_counter()
        return self._finish(ids, {"wall_s_this_run": end - t0, "setup_s": t_rollout - t0, "rollout_s": end - t_rollout})

    def _setup_bar(self, ids: list[str]) -> None:
        if not self.cfg.progress:
            return
        from tqdm import tqdm

        done = sum(1 for ep in ids if (self.finals.get(ep) or {}).get("result") is not None)
        self.bar = tqdm(total=len(ids), initial=done, desc=f"eval {self.cfg.env_id}", unit="ep", dynamic_ncols=True)
        self._update_bar()

    def _update_bar(self) -> None:
        if self.bar is None:
            return
        results = [f.get("result") or {} for f in self.finals.values()]
        wins = sum(1 for r in results if any(r.get(k) for k in SUCCESS_KEYS))
        t = self.totals
        self.bar.set_postfix_str(
            f"success {wins}/{len(results)} steps {t['steps']} tokens {t['prompt_tokens'] + t['completion_tokens']} "
            f"${t['cost_usd']:.4f} cached {t['cache_hits']}", refresh=False)

    # -- one episode -----------------------------------------------------------------------
    async def _episode(self, env: Any, ep: str, logged: list[dict]) -> None:
        cfg, agent = self.cfg, self.agent
        ctx = StepContext(episode_id=ep, family=self.family, seed=cfg.seed)
        try:
            obs, ctx.oracle = await self.env_call(_reset, env, ep, cfg.seed, agent.needs_oracle)
            for rec in logged:  # rebuild the state of an interrupted episode without the agent
                if rec.get("obs_hash") and rec["obs_hash"] != obs_hash(obs):
                    self.totals["replay_mismatches"] += 1
                    log.warning("episode %s step %s: replayed observation differs from the logged one", ep, rec["step"])
                obs, ctx.oracle, done, info = await self._apply(env, ctx, obs, rec["action"], agent.needs_oracle)
                self.totals["replayed_steps"] += 1
                if done:
                    return self._end(ep, info, ctx)
            while True:
                if ctx.step >= cfg.max_steps_cap:
                    raise RuntimeError(f"episode did not end within max_steps_cap={cfg.max_steps_cap} steps")
                reply = await self._ask(obs, ctx)
                before = obs
                obs, oracle, done, info, step_info = await self._apply(env, ctx, obs, reply.text, agent.needs_oracle,
                                                                       detail=True)
                self._log_step(ep, ctx.step - 1, before, reply, step_info, info)
                ctx.oracle = oracle
                if done:
                    return self._end(ep, info, ctx)
        except AgentFatalError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an environment failure ends this episode only
            log.warning("episode %s failed: %r", ep, exc)
            rec = {"type": "episode", "episode_id": ep, "result": None, "steps": ctx.step,
                   "error": "".join(traceback.format_exception_only(type(exc), exc)).strip()}
            self.finals[ep] = rec
            self.write(rec)
            self._advance()

    async def _ask(self, obs: Any, ctx: StepContext) -> AgentReply:
        try:
            reply = await self.agent.act(obs, ctx)
        except (AgentFatalError, asyncio.CancelledError):
            raise
        except Exception as exc:  # an agent bug must not lose the run: a failed step
            log.warning("agent %s raised on episode %s step %d: %r", self.agent.name, ctx.episode_id, ctx.step, exc)
            reply = AgentReply("", error=f"agent error: {exc!r}")
        if not isinstance(reply.text, str):
            reply.text = "" if reply.text is None else str(reply.text)
        return reply

    async def _apply(self, env: Any, ctx: StepContext, obs: Any, action: str, oracle: bool, detail: bool = False):
        new_obs, reward, terminated, truncated, info, new_oracle = await self.env_call(_step, env, action, oracle)
        parsed = info.get("action", info.get("parsed_answer"))
        feedback = str(info.get("feedback", "") or "") if self.family == "closed_loop" else ""
        ctx.record(obs if isinstance(obs, dict) else {"image": obs}, action, jsonable(parsed), feedback)
        done = terminated or truncated
        if not detail:
            return new_obs, new_oracle, done, info
        step_info = {"reward": reward, "terminated": terminated, "truncated": truncated, "parsed": parsed,
                     "feedback": feedback}
        return new_obs, new_oracle, done, info, step_info

    def _log_step(self, ep: str, step: int, obs: Any, reply: AgentReply, s: dict, info: dict) -> None:
        t = self.totals
        t["steps"] += 1
        t["requests"] += reply.attempts
        t["cache_hits"] += int(reply.cached)
        t["failed_calls"] += int(bool(reply.error) and reply.attempts > 0 and not reply.text)
        t["prompt_tokens"] += 0 if reply.cached else reply.prompt_tokens
        t["completion_tokens"] += 0 if reply.cached else reply.completion_tokens
        t["cost_usd"] += reply.cost
        self.write({
            "type": "step", "episode_id": ep, "step": step, "request_hash": reply.request_hash,
            "prompt": reply.prompt, "raw_reply": reply.text, "action": reply.text,
            "parsed_action": jsonable(s["parsed"]), "invalid_action": bool(info.get("invalid_action", s["parsed"] is None)),
            "reward": s["reward"], "score": jsonable(info.get("score", s["reward"])),
            "latency_s": round(reply.latency_s, 6), "t": round(time.time(), 4), "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens, "cost": reply.cost, "cached": reply.cached,
            "attempts": reply.attempts, "error": reply.error, "obs_hash": obs_hash(obs),
            "terminated": s["terminated"], "truncated": s["truncated"], "feedback": s["feedback"],
        })
        self._update_bar()

    def _end(self, ep: str, info: dict, ctx: StepContext) -> None:
        result = info.get("episode_result")
        rec: dict[str, Any] = {"type": "episode", "episode_id": ep, "steps": ctx.step}
        if isinstance(result, dict):
            rec["result"] = jsonable(result)
        else:
            rec["result"] = None
            rec["error"] = "the environment ended the episode without info['episode_result']"
        self.finals[ep] = rec
        self.write(rec)
        self._advance()

    def _advance(self) -> None:
        if self.bar is not None:
            self._update_bar()
            self.bar.update(1)

    # -- the end ---------------------------------------------------------------------------
    def _finish(self, ids: list[str], times: dict[str, float]) -> dict[str, Any]:
        results, errors = [], []
        for ep in ids:
            rec = self.finals.get(ep)
            if rec is None:
                errors.append({"episode_id": ep, "error": "not run"})
            elif rec.get("result") is not None:
                results.append(rec["result"])
            else:
                errors.append({"episode_id": ep, "error": rec.get("error", "unknown")})
        summary, summarizer = summarize(self.family, results)
        totals = self._log_totals()
        summary["run"] = {
            "env_id": self.cfg.env_id, "family": self.family, "agent": getattr(self.agent, "name", str(self.cfg.agent)),
            "episodes": self.cfg.episodes if isinstance(self.cfg.episodes, (str, int, type(None))) else "<list>",
            "n_episodes": len(ids), "n_results": len(results), "n_errors": len(errors), "errors": errors[:50],
            "cost_known": bool(getattr(self.agent, "cost_known", True)),
            "summarizer": summarizer, **{k: round(v, 4) for k, v in times.items()}, "this_run": dict(self.totals),
            **totals,
        }
        (self.out / "summary.json").write_text(json.dumps(jsonable(summary), indent=2))
        from ..report import write_report

        write_report(summary, self.out / "summary.md", title=f"{self.cfg.env_id} / {summary['run']['agent']}")
        return summary

    def _log_totals(self) -> dict[str, Any]:
        """Totals over the whole log (all runs that wrote to it)."""
        steps, _ = read_log(self.log_path)
        recs = [r for rs in steps.values() for r in rs]
        return {
            "steps": len(recs),
            "requests": sum(int(r.get("attempts") or 0) for r in recs),
            "cache_hits": sum(1 for r in recs if r.get("cached")),
            "failed_calls": sum(1 for r in recs if r.get("error") and int(r.get("attempts") or 0) > 0 and not r.get("raw_reply")),
            "invalid_actions": sum(1 for r in recs if r.get("invalid_action")),
            "prompt_tokens": sum(int(r.get("prompt_tokens") or 0) for r in recs if not r.get("cached")),
            "completion_tokens": sum(int(r.get("completion_tokens") or 0) for r in recs if not r.get("cached")),
            "cost_usd": round(sum(float(r.get("cost") or 0.0) for r in recs), 6),
        }
