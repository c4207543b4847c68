"""``OpenAIAgent``: any OpenAI-compatible chat endpoint (OpenAI, Gemini's OpenAI-compatible API,
vLLM / SGLang serving Qwen2.5-VL) through ``openai.AsyncOpenAI``.

Every model request is one standard ``POST {base_url}/chat/completions`` whose body is
``{"model", "messages", "temperature", "max_tokens", "seed", ...}``; images travel as base64 data
URLs resized to :attr:`AgentSettings.image_max_side`. The client's own retries are switched off
(``max_retries=0``); this agent retries itself (see :class:`AgentSettings`) so the policy is
explicit and testable. The body is posted as built here (``client.post("/chat/completions",
cast_to=ChatCompletion)``, skipping the SDK's typed-parameter transform, which changes nothing for
chat completions and costs about 1 ms of CPU per request). 429 / 5xx / timeouts / connection errors / malformed bodies are retried with
exponential backoff and jitter, honouring ``Retry-After`` (and ``retry-after-ms``); 401 / 403 / 404
raise :class:`AgentFatalError`. An empty completion (``content`` empty or ``null``, or
``choices: []``) is not a reply of the model: it is retried like a 5xx. Any other 4xx, and
retries running out, give an *infrastructure failure* (``AgentReply(text="",
infra_failure=True)``): the harness never hands it to the environment, and ``--resume`` asks
again; ``max_consecutive_failures`` such calls in a row stop the run (:class:`AgentFatalError`).

Deadlines: every HTTP request has a total deadline of ``timeout`` seconds (a server that trickles
bytes cannot hold a request longer). Until the endpoint has answered anything (any HTTP status),
a call whose attempts all fail to connect is fatal at once (a wrong base URL or a server that is
down), and an endpoint that accepts connections but never answers is fatal once
``first_answer_deadline`` seconds (default 150) have passed since the first request: with the
defaults a run against such a server stops within about 2.5 minutes, saying so. A connection
that is closed mid-response is reported as such, not as "cannot reach".

Only real replies go to the :class:`ResponseCache`, keyed by the endpoint (base URL), the extra
request fields and the whole request (:func:`cache_namespace`); a repeated request is answered
from the cache (``cached=True``, ``cost=0``) and concurrent identical requests share one HTTP call.
Error texts are redacted (:class:`~embodied_gym.agents.redact.Redactor`: the API key never
reaches a log). ``blind=True`` makes the text-only baseline: same model, no images.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from ..envs.prompts import PromptBuilder
from .base import Agent, AgentFatalError, AgentReply, StepContext
from .cache import ResponseCache, request_key
from .frame_encoding import ImageEncoder, encode_image  # noqa: F401  (encode_image: re-exported)
from .redact import Redactor
from .settings import AgentSettings, Pricing

RETRYABLE_STATUS = frozenset({408, 409, 429}) | frozenset(range(500, 600))
FATAL_STATUS = frozenset({401, 403, 404})


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``Retry-After`` (seconds or an HTTP date), else ``None``.

    Never raises: unreadable, negative or non-finite values give ``None``."""
    try:
        get = headers.get
    except AttributeError:
        return None
    try:
        ms = get("retry-after-ms")
        if ms is not None:
            value = float(ms) / 1000.0
            return value if math.isfinite(value) and value >= 0 else None
        raw = get("retry-after")
        if raw is None:
            return None
        raw = str(raw).strip()
        try:
            value = float(raw)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw)
            value = parsed.timestamp() - time.time()
            value = max(0.0, value)
        return value if math.isfinite(value) and value >= 0 else None
    except Exception:  # noqa: BLE001 -- a header must never crash the run
        return None


def backoff_delay(attempt: int, settings: AgentSettings, rng: random.Random, retry_after: float | None) -> float:
    """Seconds before retry number ``attempt + 1``: ``Retry-After`` when given (capped), else
    exponential backoff with multiplicative jitter."""
    if retry_after is not None:
        return min(retry_after, settings.max_retry_after)
    delay = min(settings.backoff_max, settings.backoff_base * (2.0 ** attempt))
    return max(0.0, delay * (1.0 + settings.jitter * (2.0 * rng.random() - 1.0)))


def cache_namespace(base_url: Any, extra_body: dict[str, Any] | None = None) -> str:
    """The cache namespace of chat requests to ``base_url`` with ``extra_body``: replies of one
    endpoint never answer requests to another, even for the same model name."""
    return f"chat|{str(base_url).rstrip('/')}|" + repr(sorted((extra_body or {}).items()))


#: tool calls of a reply are kept in its text after this marker, as JSON (so they are cached and
#: logged with it): ``[{"id", "name", "arguments"}]``; see :func:`split_tool_calls`
TOOL_CALLS_MARK = "\n<tool_calls>"


def split_tool_calls(text: str) -> tuple[str, list[dict[str, str]]]:
    """``(content, tool calls)`` of a reply text made by :func:`extract_text`. Never raises."""
    head, mark, tail = text.partition(TOOL_CALLS_MARK)
    if not mark:
        return text, []
    try:
        calls = json.loads(tail)
    except ValueError:
        return head, []
    ok = [c for c in calls if isinstance(c, dict) and isinstance(c.get("name"), str)] if isinstance(calls, list) else []
    return head, [{"id": str(c.get("id", "")), "name": c["name"], "arguments": str(c.get("arguments") or "{}")}
                  for c in ok]


def extract_text(completion: Any) -> tuple[str, int, int]:
    """``(text, prompt_tokens, completion_tokens)`` from a chat completion (object or dict); tool
    calls, when the message has any, follow the content after :data:`TOOL_CALLS_MARK`.

    Never raises: missing choices, ``null`` content or odd shapes give ``""``."""
    def get(obj: Any, name: str) -> Any:
        if isinstance(obj, dict):
            return obj.get(name)
        return getattr(obj, name, None)

    text = ""
    try:
        choices = get(completion, "choices") or []
        message = get(choices[0], "message") if len(choices) else None
        content = get(message, "content") if message is not None else None
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):  # content parts
            text = "".join(str(get(p, "text") or "") for p in content)
        calls = get(message, "tool_calls") if message is not None else None
        if calls:
            listed = [{"id": get(c, "id"), "name": get(get(c, "function"), "name"),
                       "arguments": get(get(c, "function"), "arguments")} for c in calls]
            text += TOOL_CALLS_MARK + json.dumps(listed)
    except Exception:  # noqa: BLE001
        text = ""
    usage = get(completion, "usage")

    def tokens(name: str) -> int:
        try:
            value = get(usage, name) if usage is not None else 0
            return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else 0
        except Exception:  # noqa: BLE001
            return 0

    return text, tokens("prompt_tokens"), tokens("completion_tokens")


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}"[:200] if cause is not None else str(exc)[:200]


def _is_connect_error(exc: BaseException) -> bool:
    """Whether a connection error happened before any byte reached the server (refused, DNS,
    connect timeout), as opposed to a connection closed mid-request/response."""
    cause = exc.__cause__ or exc.__context__  # the HTTP library's exception (httpx or httpx2)
    return cause is None or type(cause).__name__ in ("ConnectError", "ConnectTimeout")


def to_openai_messages(messages: list[dict[str, Any]], encoder: ImageEncoder) -> tuple[list[dict], list[dict]]:
    """Neutral messages -> (wire messages with data URLs, log-safe copy with placeholders)."""
    wire: list[dict] = []
    logged: list[dict] = []
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            wire.append({"role": m["role"], "content": content})
            logged.append({"role": m["role"], "content": content})
            continue
        w_parts, l_parts = [], []
        for part in content:
            if part["type"] == "image":
                url, placeholder = encoder.encode(part["image"])
                w_parts.append({"type": "image_url", "image_url": {"url": url}})
                l_parts.append({"type": "image_url", "image_url": {"url": placeholder}})
            else:
                w_parts.append({"type": "text", "text": part["text"]})
                l_parts.append({"type": "text", "text": part["text"]})
        wire.append({"role": m["role"], "content": w_parts})
        logged.append({"role": m["role"], "content": l_parts})
    return wire, logged


class OpenAIAgent(Agent):
    """An agent backed by an OpenAI-compatible chat-completions endpoint."""

    def __init__(
        self,
        model: str,
        *,
        family: str,
        settings: AgentSettings | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        cache: ResponseCache | None = None,
        blind: bool = False,
        pricing: Pricing | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        self.model = model
        self.settings = settings or AgentSettings()
        self.name = f"{'blind' if blind else 'openai'}:{model}"
        self.builder = PromptBuilder(self.settings.prompt_config(family), include_images=not blind)
        self.encoder = ImageEncoder(self.settings.image_max_side, self.settings.image_format, self.settings.jpeg_quality)
        self.frame_encoder = None if blind else self.encoder
        self.cache = cache
        self.pricing = pricing or Pricing.load(self.settings.prices_file)
        #: False when the model has no entry in the price table (its cost is then reported as 0)
        self.cost_known = self.pricing.rate(model) is not None
        self._sleep = sleep
        self._rng = random.Random(self.settings.seed or 0)
        self._inflight: dict[str, asyncio.Future] = {}
        self._consecutive_failures = 0
        #: whether any HTTP response (success or error status) has come back from the endpoint yet
        self._reached = False
        self._first_sent: float | None = None  # monotonic time of the first request
        self._waiting: dict[int, dict[str, Any]] = {}  # calls in progress, for waiting_for()
        self.redact = Redactor([api_key])
        if client is None:
            try:
                client = openai.AsyncOpenAI(
                    base_url=base_url, api_key=api_key, max_retries=0, timeout=self.settings.timeout
                )
            except openai.OpenAIError as exc:
                raise ValueError(f"cannot create the OpenAI client: {exc} (set OPENAI_API_KEY or pass --api-key)") from None
        self.client = client
        #: counters for reports and tests: HTTP requests sent, retries, failed calls, waits taken
        self.stats: dict[str, Any] = {"requests": 0, "retries": 0, "failures": 0, "delays": []}

    def request_body(self, wire_messages: list[dict]) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {"model": self.model, "messages": wire_messages, "temperature": s.temperature,
                                s.token_limit_field: s.max_tokens}
        if s.seed is not None:
            body["seed"] = s.seed
        if s.top_p is not None:
            body["top_p"] = s.top_p
        return body

    async def act(self, obs: dict[str, Any], ctx: StepContext) -> AgentReply:
        start = time.perf_counter()
        wire, logged = to_openai_messages(self.builder.build(obs, ctx), self.encoder)
        body = self.request_body(wire)
        key = request_key(cache_namespace(self.client.base_url, self.settings.extra_body), body)
        reply = await self._answer(key, body)
        reply.prompt = logged
        reply.latency_s = time.perf_counter() - start
        return reply

    async def _answer(self, key: str, body: dict[str, Any]) -> AgentReply:
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and hit["text"]:  # (an empty entry of an older egym is asked again)
                return AgentReply(hit["text"], key, prompt_tokens=hit["prompt_tokens"],
                                  completion_tokens=hit["completion_tokens"], cached=True)
        pending = self._inflight.get(key)
        if pending is not None:  # the same request is already on the wire: share its answer
            shared: AgentReply = await asyncio.shield(pending)
            return AgentReply(shared.text, key, prompt_tokens=shared.prompt_tokens,
                              completion_tokens=shared.completion_tokens, cached=True, error=shared.error,
                              infra_failure=shared.infra_failure)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            reply = await self._call(key, body)
            future.set_result(reply)
            return reply
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved
            raise
        finally:
            self._inflight.pop(key, None)

    def _deadline_left(self) -> float | None:
        """Seconds left before ``first_answer_deadline`` while the endpoint has never answered."""
        if self._reached or self._first_sent is None:
            return None
        return self.settings.first_answer_deadline - (time.monotonic() - self._first_sent)

    def _never_answered(self, attempts: int, last_error: str) -> AgentFatalError:
        return AgentFatalError(
            f"{self.model}: {self.client.base_url} has not answered any request in "
            f"{time.monotonic() - (self._first_sent or time.monotonic()):.0f} s (first_answer_deadline "
            f"{self.settings.first_answer_deadline:g} s; {attempts} attempt(s) of this call); last error: {last_error}. "
            f"Is the server up and serving this model? (raise first_answer_deadline for slow cold starts)")

    async def _post(self, body: dict[str, Any], timeout: float) -> Any:
        """One HTTP request with a total deadline of ``timeout`` seconds."""
        s = self.settings
        request = self.client.post("/chat/completions", body={**body, **s.extra_body} if s.extra_body else body,
                                   cast_to=ChatCompletion)
        return await asyncio.wait_for(request, timeout)  # asyncio.TimeoutError past the deadline

    async def _call(self, key: str, body: dict[str, Any]) -> AgentReply:
        s = self.settings
        last_error = "no attempt"
        attempts = 0
        cannot_connect = 0
        state = {"start": time.monotonic(), "attempt": 0, "last": None}
        self._waiting[id(state)] = state
        try:
            for attempt in range(s.max_retries + 1):
                retry_after = None
                left = self._deadline_left()
                if left is not None and left <= 0:
                    raise self._never_answered(attempts, last_error)
                attempts += 1
                state["attempt"] = attempts
                self.stats["requests"] += 1
                if self._first_sent is None:
                    self._first_sent = time.monotonic()
                timeout = s.timeout if left is None else max(0.001, min(s.timeout, left))
                try:
                    completion = await self._post(body, timeout)
                except openai.APIStatusError as exc:
                    self._reached = True
                    status = exc.status_code
                    last_error = self.redact(f"HTTP {status}: {str(exc)[:200]}")
                    if status in FATAL_STATUS:
                        raise AgentFatalError(f"{self.model}: {last_error}") from None
                    if status not in RETRYABLE_STATUS:
                        break
                    retry_after = parse_retry_after(exc.response.headers)
                except (openai.APITimeoutError, asyncio.TimeoutError):
                    last_error = f"timeout after {timeout:g} s"
                except openai.APIConnectionError as exc:
                    if _is_connect_error(exc):
                        cannot_connect += 1
                        last_error = self.redact(f"cannot connect: {_cause(exc)}")
                    else:
                        last_error = self.redact(f"connection lost before a complete answer: {_cause(exc)}")
                except (ValueError, openai.APIResponseValidationError) as exc:  # JSONDecodeError is a ValueError
                    self._reached = True
                    last_error = self.redact(f"malformed response: {str(exc)[:200]}")
                else:
                    self._reached = True
                    text, p_tok, c_tok = extract_text(completion)
                    if text.strip():
                        self._consecutive_failures = 0
                        if self.cache is not None:
                            self.cache.put(key, text=text, model=self.model, prompt_tokens=p_tok, completion_tokens=c_tok)
                        cost, _ = self.pricing.cost(self.model, p_tok, c_tok)
                        return AgentReply(text, key, prompt_tokens=p_tok, completion_tokens=c_tok, cost=cost,
                                          attempts=attempts)
                    last_error = "empty completion (no choices, or empty content)"
                state["last"] = last_error
                if attempt < s.max_retries:
                    delay = backoff_delay(attempt, s, self._rng, retry_after)
                    left = self._deadline_left()
                    if left is not None:
                        delay = max(0.0, min(delay, left))
                    self.stats["retries"] += 1
                    self.stats["delays"].append(delay)
                    await self._sleep(delay)
        finally:
            self._waiting.pop(id(state), None)
        self.stats["failures"] += 1
        self._consecutive_failures += 1
        if not self._reached and cannot_connect == attempts:
            # the endpoint has never answered and every attempt failed to connect: a wrong --base-url
            # or a server that is down would fail every request, so stop now rather than after
            # max_consecutive_failures calls of retries
            raise AgentFatalError(f"{self.model}: cannot reach {self.client.base_url} "
                                  f"({attempts} attempt(s)); last error: {last_error}")
        left = self._deadline_left()
        if left is not None and left <= 0:
            raise self._never_answered(attempts, last_error)
        if 0 < s.max_consecutive_failures <= self._consecutive_failures:
            raise AgentFatalError(f"{self.model}: {self._consecutive_failures} API calls in a row failed; "
                                  f"last error: {last_error}")
        return AgentReply("", key, attempts=attempts, infra_failure=True,
                          error=f"API call failed after {attempts} attempt(s): {last_error}")

    def waiting_for(self) -> str | None:
        if not self._waiting:
            return None
        state = min(self._waiting.values(), key=lambda st: st["start"])
        waited = time.monotonic() - state["start"]
        last = f" (last: {state['last']})" if state["last"] else ""
        return (f"{self.name}: waiting {waited:.0f} s for {self.client.base_url}, attempt {state['attempt']}/"
                f"{self.settings.max_retries + 1}{last}")

    async def aclose(self) -> None:
        await self.client.close()
