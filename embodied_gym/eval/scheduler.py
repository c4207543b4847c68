"""The scheduler of ``egym eval``: runs episodes concurrently, logs every step, feeds the summary.

:func:`run_eval` runs every episode of ``config.episodes`` (or the first ``config.limit``)
through ``config.env_id`` with ``config.agent``, ``config.concurrency`` episodes at a time, and
writes to ``config.out``:

* ``steps.jsonl``: the append-only log, one JSON object per line, flushed as soon as written.
  ``{"type": "step", "episode_id", "step", "request_hash", "prompt", "raw_reply", "action",
  "parsed_action", "invalid_action", "reward", "score", "latency_s", "t" (unix time), "prompt_tokens",
  "completion_tokens", "cost", "cached", "attempts", "error", "obs_hash", "terminated",
  "truncated", "feedback"}`` plus the family's ``log_fields`` of ``info`` (BEAR: ``skill``,
  ``question_id``, ``options``, ``ground_truth``, ...; read from the evaluator's view
  :func:`~embodied_gym.envs.common.evaluator_view`, so ``ground_truth`` comes from
  the privileged part of ``info``; the log is never shown to the agent) per step; ``{"type": "infra_failure",
  "episode_id", "step", "error", "attempts", "t"}`` when no reply of the model came back; and
  ``{"type": "episode", "episode_id", "result"}`` (or ``"error"``, with ``"incomplete": true``
  when infrastructure stopped it) when an episode ends. Every line passes through the
  :class:`~embodied_gym.agents.redact.Redactor` (no API key is ever written).
* ``.lock`` (:mod:`.lock`: one run per directory), ``run.json`` (provenance, :mod:`.rundir`),
  ``cache.sqlite`` (the response cache, unless ``config.cache`` points elsewhere),
  ``summary.json`` and ``summary.md`` (:mod:`.summary`).

Concurrency: the agent calls run on the asyncio event loop; every environment call runs on the
environment handle (:mod:`.envhost`): by default on the one environment thread (:mod:`.envside`),
with ``env_workers`` in worker processes (:mod:`.workers`), with ``ray`` on Ray actors
(:mod:`.rayhost`). An episode whose worker process or actor died (``EnvLost``) or whose backend
raised an ``InfrastructureError`` is retried ``env_retries`` times from its logged steps (like a
resume; an ``infra_failure`` record each time), then ends ``incomplete`` (retried on --resume).
``concurrency`` environment instances are created and
reused.

Resume (``config.resume``): episodes with an ``episode`` record holding a result are skipped
(the logged result is reused); an unfinished episode, or one that ended with an error, is rebuilt
by resetting its environment and re-feeding the logged actions (environments are deterministic
for a given episode and seed), without calling the agent, then continues. Requests answered
before the kill but not yet logged are answered by the response cache. So no answered request is
sent twice and every episode is counted once.

Failures: a call that brought back no reply of the model (``AgentReply.infra_failure``: the API
call failed after its retries, an empty completion, a crashed generation) or an agent that
raised is an *infrastructure failure*: it is logged as such, never given to the environment,
never cached, and ends the episode as incomplete (no result; ``--resume`` rebuilds it and asks
again). It is counted in ``run.infra_failures`` / ``run.n_incomplete``, never in the model's
metrics. An exception inside the environment ends that episode with an ``error`` record (listed
under ``summary["run"]["errors"]``); only :class:`AgentFatalError` (authentication, unknown
model, an endpoint that never answers) stops the run, with everything so far kept for
``--resume``. SIGINT / SIGTERM stop it too, within a bound even when an environment hangs
(:mod:`.stopping`: :class:`~.stopping.RunInterrupted`; a second signal exits at once). Replies
longer than :data:`~embodied_gym.envs.contract.REPLY_CAP` characters are cut to their last
``REPLY_CAP`` characters here, on the event loop, before they reach the environment thread, so no
reply can stall the environments (the parsers are linear as well).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import traceback
from typing import Any

from ..agents.base import Agent, AgentFatalError, AgentReply, StepContext
from ..agents.redact import Redactor
from ..envs.common import evaluator_view
from ..envs.contract import EPISODE_RESULT, REPLY_CAP
from ..sims.base import InfrastructureError
from .config import ConfigError, EvalConfig
from .envhost import EnvHandle, make_host
from .lock import RunLock
from .provenance import agent_inputs, build_provenance
from .rundir import log_path, open_run_dir
from .runlog import jsonable, obs_hash
from .stopping import RunInterrupted, StopSignals, release
from .summary import log_totals, split_finals, summarize, write_summary

log = logging.getLogger("embodied_gym.eval")

SUCCESS_KEYS = ("success", "episode_success")
#: a call waiting this long shows what it waits for on the progress bar
WAIT_NOTICE_S = 5.0


class _Incomplete(Exception):
    """No reply of the model came back for a step: the episode stops without a result."""


def run_eval(config: EvalConfig) -> dict[str, Any]:
    """Run (or resume) an evaluation; returns the summary also written to ``out/summary.json``."""
    return asyncio.run(_Run(config).main())


class _Run:
    def __init__(self, config: EvalConfig) -> None:
        self.cfg = config
        self.out = config.out
        self.log_path = log_path(config.out)
        self.totals = {"steps": 0, "requests": 0, "cache_hits": 0, "infra_failures": 0, "prompt_tokens": 0,
                       "completion_tokens": 0, "cost_usd": 0.0, "replayed_steps": 0, "replay_mismatches": 0}
        self.finals: dict[str, dict] = {}
        self.logged_now: dict[str, list[dict]] = {}  # step records written by this process, per episode
        self.bar: Any = None
        self.host: Any = None
        self.envs: list[EnvHandle] = []

    def write(self, record: dict[str, Any]) -> None:
        self._log.write(self.redact(json.dumps(record, ensure_ascii=False)) + "\n")
        self._log.flush()

    # -- set-up ----------------------------------------------------------------------------
    async def main(self) -> dict[str, Any]:
        cfg = self.cfg
        t0 = time.perf_counter()
        self.redact = Redactor([cfg.api_key, os.environ.get("OPENAI_API_KEY")])
        hard = (f"egym eval: stopped at once (a second {{signal}}); every step logged so far is kept in {cfg.out}: "
                "continue with the same command plus --resume")
        # one run per --out, for the run's whole life; SIGINT / SIGTERM stop it cleanly (.stopping)
        with RunLock(cfg.out), StopSignals(lambda: self.host is not None and self.host.abort(), hard) as self.stop:
            try:
                return await self._hosted(t0)
            except asyncio.CancelledError:
                if self.stop.signum is None:
                    raise
                getattr(asyncio.current_task(), "uncancel", lambda: None)()  # (Python >= 3.11)
                raise RunInterrupted(self.stop.signum) from None

    async def _hosted(self, t0: float) -> dict[str, Any]:
        cfg = self.cfg
        self.own_host = cfg.env_host is None
        self.host = make_host(cfg.env_id, cfg.episodes, cfg.env_kwargs, cfg.env_workers, cfg.ray,
                              cfg.ray_actor_options, cfg.env_call_timeout) if self.own_host else cfg.env_host
        try:
            first = await self.host.make()
        except BaseException:
            if self.stop.requested.is_set():
                self.host.abort()
            if self.own_host:
                await self.host.shutdown()
            raise
        return await self._main(first, t0)

    def _prepare(self, first: EnvHandle) -> tuple[list[str], dict, dict[str, Any]]:
        """Episode ids, logged steps and the agent's inputs; checks and writes run.json."""
        cfg = self.cfg
        self.family = first.info.family
        self.perceive = cfg.perception == "oracle"
        if self.perceive and not first.info.has_perception:
            raise ConfigError("perception", f"'oracle' needs an environment with perception_report(); "
                                            f"{cfg.env_id} has none")
        all_ids = list(first.info.episode_ids)
        ids = all_ids[: cfg.limit] if cfg.limit is not None else all_ids
        if not ids:
            raise ValueError(f"{cfg.env_id}: no episodes to evaluate (episodes={cfg.episodes!r})")
        profile = first.info.metadata.get("prompt_profile")
        inputs = agent_inputs(cfg, self.family, default_profile=profile)
        provenance = build_provenance(cfg, episode_ids=all_ids, family=self.family, **inputs)
        logged_steps, self.finals, self.run_record = open_run_dir(cfg, provenance)
        return ids, logged_steps, inputs

    def _make_agent(self, settings: Any) -> Agent:
        cfg = self.cfg
        if isinstance(cfg.agent, Agent):
            return cfg.agent
        from ..agents.factory import make_agent, parse_agent_spec

        spec, extra = cfg.agent, {}
        if cfg.perception == "none":  # no images: the model agents' blind mode
            kind, model = parse_agent_spec(cfg.agent)
            if kind not in ("openai", "blind", "hf"):
                raise ConfigError("perception", f"'none' needs a model agent (openai:, blind:, hf:), not {cfg.agent!r}")
            spec, extra = (f"blind:{model}", {}) if kind == "openai" else (spec, {"blind": True} if kind == "hf" else {})
        return make_agent(spec, family=self.family, settings=settings, base_url=cfg.base_url,
                          api_key=cfg.api_key, cache=self.cache, **extra)

    async def _main(self, first: EnvHandle, t0: float) -> dict[str, Any]:
        cfg = self.cfg
        envs: list[EnvHandle] = self.envs
        envs.append(first)
        self.cache = self.agent = self._log = None
        ticker = None
        finished = False
        try:
            ids, logged_steps, inputs = self._prepare(first)
            # an episode that ended without a result (error, incomplete) is retried on resume
            todo = [ep for ep in ids if (self.finals.get(ep) or {}).get("result") is None]
            todo.sort(key=lambda ep: ep not in logged_steps)  # unfinished episodes first
            from ..agents.cache import ResponseCache
            from ..agents.families import FAMILIES

            spec = FAMILIES.get(self.family)
            self.step_feedback = bool(spec and spec.step_feedback)
            self.log_fields = spec.log_fields if spec else ()
            self.cache = ResponseCache(cfg.cache or self.out / "cache.sqlite")
            self.agent = self._make_agent(inputs["settings"])
            self.host.frame_encoder = getattr(self.agent, "frame_encoder", None)
            if self.agent.needs_scene and not first.info.has_scene:
                raise ConfigError("agent", f"{self.agent.name} needs an environment with perception_state(); "
                                           f"{cfg.env_id} has none")
            for _ in range(min(cfg.concurrency, len(todo)) - 1):
                envs.append(await self.host.make())
            pool: asyncio.Queue = asyncio.Queue()
            for env in envs:
                pool.put_nowait(env)
            self._setup_bar(ids)
            if self.bar is not None:
                ticker = asyncio.ensure_future(self._tick())
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
            finished = True
        finally:
            self.stop.task = None  # the clean-up is bounded (release); a signal now only cuts its waits short
            if ticker is not None:
                ticker.cancel()
            if self._log is not None:
                self._log.close()
            if self.bar is not None:
                self.bar.close()
            if self.agent is not None:
                await self.agent.aclose()
            await release(envs, self.host, self.stop, finished=finished)
            if self.own_host:
                await self.host.shutdown()
            if self.cache is not None:
                self.cache.close()
        end = time.perf_counter()
        return self._finish(ids, {"wall_s_this_run": end - t0, "setup_s": t_rollout - t0, "rollout_s": end - t_rollout})

    async def _tick(self) -> None:
        """Once a second: what a long-waiting call is waiting for, on the progress bar."""
        while True:
            await asyncio.sleep(1.0)
            waiting = self.agent.waiting_for() if self.agent is not None else None
            self._update_bar(self.redact(waiting) if waiting else None)
            self.bar.refresh()

    def _setup_bar(self, ids: list[str]) -> None:
        if not self.cfg.progress:
            return
        from tqdm import tqdm

        done = sum(1 for ep in ids if (self.finals.get(ep) or {}).get("result") is not None)
        self.bar = tqdm(total=len(ids), initial=done, desc=f"eval {self.cfg.env_id}", unit="ep", dynamic_ncols=True)
        self._update_bar()

    def _update_bar(self, waiting: str | None = None) -> None:
        if self.bar is None:
            return
        results = [f.get("result") or {} for f in self.finals.values() if f.get("result") is not None]
        wins = sum(1 for r in results if any(r.get(k) for k in SUCCESS_KEYS))
        t = self.totals
        text = (f"success {wins}/{len(results)} steps {t['steps']} tokens {t['prompt_tokens'] + t['completion_tokens']} "
                f"${t['cost_usd']:.4f} cached {t['cache_hits']}" + (f" infra failures {t['infra_failures']}"
                                                                     if t["infra_failures"] else ""))
        self.bar.set_postfix_str(text + (f" | {waiting}" if waiting else ""), refresh=False)

    # -- one episode -----------------------------------------------------------------------
    async def _episode(self, env: EnvHandle, ep: str, logged: list[dict]) -> None:
        """Run one episode; retried from its logged steps after the environment's process died."""
        for attempt in range(self.cfg.env_retries + 1):
            try:
                return await self._attempt(env, ep, logged + self.logged_now.get(ep, []))
            except InfrastructureError as exc:
                log.warning("episode %s: environment lost (attempt %d): %s", ep, attempt + 1, exc)
                step, lost = len(logged) + len(self.logged_now.get(ep, [])), f"{type(exc).__name__}: {exc}"
                self._log_infra(ep, step, AgentReply("", error=f"environment: {lost}"))
        rec = {"type": "episode", "episode_id": ep, "result": None, "steps": step, "incomplete": True,
               "error": f"infrastructure failure at step {step}: the environment was lost "
                        f"{self.cfg.env_retries + 1} times; last: {lost}"}
        self.finals[ep] = rec
        self.write(rec)
        self._advance()

    async def _attempt(self, env: EnvHandle, ep: str, logged: list[dict]) -> None:
        cfg, agent = self.cfg, self.agent
        ctx = StepContext(episode_id=ep, family=self.family, seed=cfg.seed)
        try:
            obs, ctx.oracle = await env.reset(ep, cfg.seed, agent.needs_oracle)
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
                if self.perceive or agent.needs_scene:
                    ctx.perception, ctx.scene = await env.perceive(self.perceive, agent.needs_scene)
                reply = await self._ask(obs, ctx)
                if reply.infra_failure:
                    self._log_infra(ep, ctx.step, reply)
                    raise _Incomplete(reply.error or "no reply")
                before = obs
                action = reply.text[-REPLY_CAP:]  # the env sees the tail, where the answer is
                obs, oracle, done, info, step_info = await self._apply(env, ctx, obs, action, agent.needs_oracle,
                                                                       detail=True)
                self._log_step(ep, ctx.step - 1, before, reply, action, step_info, info)
                ctx.oracle = oracle
                if done:
                    return self._end(ep, info, ctx)
        except (AgentFatalError, InfrastructureError):
            raise
        except asyncio.CancelledError:
            raise
        except _Incomplete as exc:  # infrastructure: no result, asked again on --resume
            rec = {"type": "episode", "episode_id": ep, "result": None, "steps": ctx.step, "incomplete": True,
                   "error": f"infrastructure failure at step {ctx.step}: {exc}"}
            self.finals[ep] = rec
            self.write(rec)
            self._advance()
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
        except Exception as exc:  # an agent bug is not the model's answer: an infrastructure failure
            log.warning("agent %s raised on episode %s step %d: %r", self.agent.name, ctx.episode_id, ctx.step, exc)
            reply = AgentReply("", error=f"agent error: {exc!r}", infra_failure=True)
        if not isinstance(reply.text, str):
            reply.text = "" if reply.text is None else str(reply.text)
        return reply

    def _log_infra(self, ep: str, step: int, reply: AgentReply) -> None:
        self.totals["infra_failures"] += 1
        self.totals["requests"] += reply.attempts
        self.write({"type": "infra_failure", "episode_id": ep, "step": step, "error": reply.error,
                    "attempts": reply.attempts, "t": round(time.time(), 4)})
        self._update_bar()

    async def _apply(self, env: EnvHandle, ctx: StepContext, obs: Any, action: str, oracle: bool, detail: bool = False):
        new_obs, reward, terminated, truncated, info, new_oracle = await env.step(action, oracle)
        parsed = info.get("action", info.get("parsed_answer"))
        feedback = str(info.get("feedback", "") or "") if self.step_feedback else ""
        ctx.record(obs if isinstance(obs, dict) else {"image": obs}, action, jsonable(parsed), feedback)
        done = terminated or truncated
        if not detail:
            return new_obs, new_oracle, done, info
        step_info = {"reward": reward, "terminated": terminated, "truncated": truncated, "parsed": parsed,
                     "feedback": feedback}
        return new_obs, new_oracle, done, info, step_info

    def _log_step(self, ep: str, step: int, obs: Any, reply: AgentReply, action: str, s: dict, info: dict) -> None:
        t = self.totals
        t["steps"] += 1
        t["requests"] += reply.attempts
        t["cache_hits"] += int(reply.cached)
        t["prompt_tokens"] += 0 if reply.cached else reply.prompt_tokens
        t["completion_tokens"] += 0 if reply.cached else reply.completion_tokens
        t["cost_usd"] += reply.cost
        seen = evaluator_view(info)  # the log is the evaluator's: ground truth comes from the privileged part
        extra = {k: jsonable(seen[k]) for k in self.log_fields if k in seen}
        record = {
            **extra,
            "type": "step", "episode_id": ep, "step": step, "request_hash": reply.request_hash,
            "prompt": reply.prompt, "raw_reply": reply.text, "action": action,
            "parsed_action": jsonable(s["parsed"]), "invalid_action": bool(info.get("invalid_action", s["parsed"] is None)),
            "reward": s["reward"], "score": jsonable(info.get("score", s["reward"])),
            "latency_s": round(reply.latency_s, 6), "t": round(time.time(), 4), "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens, "cost": reply.cost, "cached": reply.cached,
            "attempts": reply.attempts, "error": reply.error, "obs_hash": obs_hash(obs),
            "terminated": s["terminated"], "truncated": s["truncated"], "feedback": s["feedback"],
        }
        self.write(record)
        self.logged_now.setdefault(ep, []).append(record)
        self._update_bar()

    def _end(self, ep: str, info: dict, ctx: StepContext) -> None:
        result = info.get(EPISODE_RESULT)
        rec: dict[str, Any] = {"type": "episode", "episode_id": ep, "steps": ctx.step}
        if isinstance(result, dict):
            rec["result"] = jsonable(result)
        else:
            rec["result"] = None
            rec["error"] = f"the environment ended the episode without info['{EPISODE_RESULT}']"
        self.finals[ep] = rec
        self.write(rec)
        self._advance()

    def _advance(self) -> None:
        if self.bar is not None:
            self._update_bar()
            self.bar.update(1)

    # -- the end ---------------------------------------------------------------------------
    def _finish(self, ids: list[str], times: dict[str, float]) -> dict[str, Any]:
        results, errors = split_finals(ids, self.finals)
        summary, summarizer = summarize(self.family, results)
        summary["run"] = {
            "env_id": self.cfg.env_id, "family": self.family, "agent": getattr(self.agent, "name", str(self.cfg.agent)),
            "episodes": self.cfg.episodes_label(),
            "n_episodes": len(ids), "n_results": len(results), "n_errors": len(errors),
            "n_incomplete": sum(1 for e in errors if e.get("kind") == "infrastructure"), "errors": errors[:50],
            "cost_known": bool(getattr(self.agent, "cost_known", True)),
            "summarizer": summarizer, **{k: round(v, 4) for k, v in times.items()}, "this_run": dict(self.totals),
            **(self.host.stats() if self.host is not None else {}),
            **log_totals(self.log_path), "provenance": self.run_record,
        }
        return write_summary(self.out, summary, title=f"{self.cfg.env_id} / {summary['run']['agent']}",
                             redact=self.redact)
