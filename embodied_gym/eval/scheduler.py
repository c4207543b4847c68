"""The scheduler of ``egym eval``: runs episodes concurrently, logs every step, feeds the summary.

:func:`run_eval` runs every episode of ``config.episodes`` (or the first ``config.limit``)
through ``config.env_id`` with ``config.agent``, ``config.concurrency`` episodes at a time, and
writes to ``config.out``:

* ``steps.jsonl``: the append-only log, one JSON object per line, flushed as soon as written.
  ``{"type": "step", "episode_id", "step", "request_hash", "prompt", "raw_reply", "action",
  "parsed_action", "invalid_action", "reward", "score", "latency_s", "t" (unix time), "prompt_tokens",
  "completion_tokens", "cost", "cached", "attempts", "error", "obs_hash", "terminated",
  "truncated", "feedback"}`` per step and ``{"type": "episode", "episode_id", "result"}``
  (or ``"error"``) when an episode ends.
* ``run.json`` (:mod:`.rundir`), ``cache.sqlite`` (the response cache, unless ``config.cache``
  points elsewhere), ``summary.json`` and ``summary.md`` (:mod:`.summary`).

Concurrency: the agent calls run on the asyncio event loop; every environment call runs on the
one environment thread (:mod:`.envside`). ``concurrency`` environment instances are created and
reused.

Resume (``config.resume``): episodes with an ``episode`` record holding a result are skipped
(the logged result is reused); an unfinished episode, or one that ended with an error, is rebuilt
by resetting its environment and re-feeding the logged actions (environments are deterministic
for a given episode and seed), without calling the agent, then continues. Requests answered
before the kill but not yet logged are answered by the response cache. So no answered request is
sent twice and every episode is counted once.

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
from typing import Any

from ..agents.base import Agent, AgentFatalError, AgentReply, StepContext
from ..envs.contract import EPISODE_RESULT, episode_id, family_of
from . import envside
from .config import ConfigError, EvalConfig
from .rundir import log_path, open_run_dir
from .runlog import jsonable, obs_hash
from .summary import log_totals, split_finals, summarize, write_summary

log = logging.getLogger("embodied_gym.eval")

SUCCESS_KEYS = ("success", "episode_success")


def run_eval(config: EvalConfig) -> dict[str, Any]:
    """Run (or resume) an evaluation; returns the summary also written to ``out/summary.json``."""
    return asyncio.run(_Run(config).main())


class _Run:
    def __init__(self, config: EvalConfig) -> None:
        self.cfg = config
        self.out = config.out
        self.log_path = log_path(config.out)
        self.totals = {"steps": 0, "requests": 0, "cache_hits": 0, "failed_calls": 0, "prompt_tokens": 0,
                       "completion_tokens": 0, "cost_usd": 0.0, "replayed_steps": 0, "replay_mismatches": 0}
        self.finals: dict[str, dict] = {}
        self.bar: Any = None

    def write(self, record: dict[str, Any]) -> None:
        self._log.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._log.flush()

    # -- set-up ----------------------------------------------------------------------------
    async def main(self) -> dict[str, Any]:
        cfg = self.cfg
        t0 = time.perf_counter()
        logged_steps, self.finals = open_run_dir(cfg)
        first = await envside.call(envside.make_env, cfg.env_id, cfg.episodes, dict(cfg.env_kwargs))
        return await self._main(first, logged_steps, t0)

    def _make_agent(self) -> Agent:
        cfg = self.cfg
        if isinstance(cfg.agent, Agent):
            return cfg.agent
        from ..agents.factory import make_agent, parse_agent_spec
        from ..agents.settings import AgentSettings

        spec, extra = cfg.agent, {}
        if cfg.perception == "none":  # no images: the model agents' blind mode
            kind, model = parse_agent_spec(cfg.agent)
            if kind not in ("openai", "blind", "hf"):
                raise ConfigError("perception", f"'none' needs a model agent (openai:, blind:, hf:), not {cfg.agent!r}")
            spec, extra = (f"blind:{model}", {}) if kind == "openai" else (spec, {"blind": True} if kind == "hf" else {})
        return make_agent(spec, family=self.family, settings=AgentSettings.load(cfg.config),
                          base_url=cfg.base_url, api_key=cfg.api_key, cache=self.cache, **extra)

    async def _main(self, first: Any, logged_steps: dict, t0: float) -> dict[str, Any]:
        cfg = self.cfg
        envs: list[Any] = [first]
        self.cache = self.agent = self._log = None
        try:
            self.family = family_of(first)
            if cfg.perception == "oracle" and not callable(getattr(first.unwrapped, "perception_report", None)):
                raise ConfigError("perception", f"'oracle' needs an environment with perception_report(); "
                                                f"{cfg.env_id} has none")
            ids = [episode_id(e) for e in first.unwrapped.episodes]
            if cfg.limit is not None:
                ids = ids[: cfg.limit]
            if not ids:
                raise ValueError(f"{cfg.env_id}: no episodes to evaluate (episodes={cfg.episodes!r})")
            # an episode that ended with an error (no result) is retried on resume
            todo = [ep for ep in ids if (self.finals.get(ep) or {}).get("result") is None]
            todo.sort(key=lambda ep: ep not in logged_steps)  # unfinished episodes first
            from ..agents.cache import ResponseCache
            from ..agents.families import FAMILIES

            self.step_feedback = self.family in FAMILIES and FAMILIES[self.family].step_feedback
            self.cache = ResponseCache(cfg.cache or self.out / "cache.sqlite")
            self.agent = self._make_agent()
            for _ in range(min(cfg.concurrency, len(todo)) - 1):
                envs.append(await envside.call(envside.make_env, cfg.env_id, cfg.episodes, dict(cfg.env_kwargs)))
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
                await envside.call(env.close)
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
            obs, ctx.oracle = await envside.call(envside.reset, env, ep, cfg.seed, agent.needs_oracle)
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
                if cfg.perception == "oracle":
                    ctx.perception = await envside.call(envside.perceive, env)
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
        new_obs, reward, terminated, truncated, info, new_oracle = await envside.call(envside.step, env, action, oracle)
        parsed = info.get("action", info.get("parsed_answer"))
        feedback = str(info.get("feedback", "") or "") if self.step_feedback else ""
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
            "n_episodes": len(ids), "n_results": len(results), "n_errors": len(errors), "errors": errors[:50],
            "cost_known": bool(getattr(self.agent, "cost_known", True)),
            "summarizer": summarizer, **{k: round(v, 4) for k, v in times.items()}, "this_run": dict(self.totals),
            **log_totals(self.log_path),
        }
        return write_summary(self.out, summary, title=f"{self.cfg.env_id} / {summary['run']['agent']}")
