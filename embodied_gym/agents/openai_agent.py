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
raise :class:`AgentFatalError`; any other 4xx, and retries running out, give a failed reply
(``text=""``, ``error`` set) that the environment scores as an invalid action, unless
``max_consecutive_failures`` calls in a row failed: then :class:`AgentFatalError` stops the run.
A first call that cannot connect at all (every attempt a connection error, the endpoint never
answered before) is also fatal: a wrong base URL or a server that is down stops the run after one
call's retries instead of paying them for every step.

Answers (including empty ones) go to the :class:`ResponseCache` before they are returned; a repeated
request is answered from the cache (``cached=True``, ``cost=0``) and concurrent identical requests
share one HTTP call. ``blind=True`` makes the text-only baseline: same model, no images.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import io
import math
import random
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import openai
from openai.types.chat import ChatCompletion

from .base import Agent, AgentFatalError, AgentReply, StepContext
from .cache import ResponseCache, request_key
from ..envs.images import to_pil
from ..envs.prompts import PromptBuilder
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


def extract_text(completion: Any) -> tuple[str, int, int]:
    """``(text, prompt_tokens, completion_tokens)`` from a chat completion (object or dict).

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


class ImageEncoder:
    """H x W x 3 uint8 arrays -> data URLs (resized, JPEG/PNG).

    Encodings are memoised by array identity (the runner passes the same array objects for the
    history frames of later steps, and never mutates observations), so each frame is compressed once."""

    def __init__(self, max_side: int, fmt: str = "jpeg", quality: int = 90, memo: int = 256) -> None:
        self.max_side, self.fmt, self.quality = max_side, fmt, quality
        self._memo: OrderedDict[int, tuple[weakref.ref, tuple[str, str]]] = OrderedDict()
        self._memo_size = memo

    def encode(self, image: np.ndarray) -> tuple[str, str]:
        """``(data_url, placeholder)``; the placeholder names size and content hash for logs."""
        hit = self._memo.get(id(image))
        if hit is not None and hit[0]() is image:
            self._memo.move_to_end(id(image))
            return hit[1]
        pil = to_pil(image, self.max_side)
        buf = io.BytesIO()
        if self.fmt == "png":
            pil.save(buf, format="PNG")
            mime = "image/png"
        else:
            pil.save(buf, format="JPEG", quality=self.quality)
            mime = "image/jpeg"
        data = buf.getvalue()
        url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        result = (url, f"<image {pil.size[0]}x{pil.size[1]} sha1:{hashlib.sha1(data).hexdigest()[:16]}>")
        try:
            self._memo[id(image)] = (weakref.ref(image), result)
        except TypeError:  # not weak-referenceable: no memo
            return result
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return result


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
        key = request_key("chat|" + repr(sorted(self.settings.extra_body.items())), body)
        reply = await self._answer(key, body)
        reply.prompt = logged
        reply.latency_s = time.perf_counter() - start
        return reply

    async def _answer(self, key: str, body: dict[str, Any]) -> AgentReply:
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return AgentReply(hit["text"], key, prompt_tokens=hit["prompt_tokens"],
                                  completion_tokens=hit["completion_tokens"], cached=True,
                                  error=None if hit["text"] else "empty reply")
        pending = self._inflight.get(key)
        if pending is not None:  # the same request is already on the wire: share its answer
            shared: AgentReply = await asyncio.shield(pending)
            return AgentReply(shared.text, key, prompt_tokens=shared.prompt_tokens,
                              completion_tokens=shared.completion_tokens, cached=True, error=shared.error)
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

    async def _call(self, key: str, body: dict[str, Any]) -> AgentReply:
        s = self.settings
        last_error = "no attempt"
        attempts = 0
        connection_errors = 0
        for attempt in range(s.max_retries + 1):
            retry_after = None
            attempts += 1
            self.stats["requests"] += 1
            try:
                completion = await self.client.post(
                    "/chat/completions", body={**body, **s.extra_body} if s.extra_body else body, cast_to=ChatCompletion
                )
            except openai.APIStatusError as exc:
                self._reached = True
                status = exc.status_code
                last_error = f"HTTP {status}: {str(exc)[:200]}"
                if status in FATAL_STATUS:
                    raise AgentFatalError(f"{self.model}: {last_error}") from None
                if status not in RETRYABLE_STATUS:
                    break
                retry_after = parse_retry_after(exc.response.headers)
            except openai.APITimeoutError:
                last_error = f"timeout after {s.timeout:g} s"
            except openai.APIConnectionError as exc:
                connection_errors += 1
                last_error = f"connection error: {str(exc)[:200]}"
            except (ValueError, openai.APIResponseValidationError) as exc:  # JSONDecodeError is a ValueError
                self._reached = True
                last_error = f"malformed response: {str(exc)[:200]}"
            else:
                self._reached = True
                self._consecutive_failures = 0
                text, p_tok, c_tok = extract_text(completion)
                if self.cache is not None:
                    self.cache.put(key, text=text, model=self.model, prompt_tokens=p_tok, completion_tokens=c_tok)
                cost, _ = self.pricing.cost(self.model, p_tok, c_tok)
                return AgentReply(text, key, prompt_tokens=p_tok, completion_tokens=c_tok, cost=cost,
                                  attempts=attempts, error=None if text.strip() else "empty reply")
            if attempt < s.max_retries:
                delay = backoff_delay(attempt, s, self._rng, retry_after)
                self.stats["retries"] += 1
                self.stats["delays"].append(delay)
                await self._sleep(delay)
        self.stats["failures"] += 1
        self._consecutive_failures += 1
        if not self._reached and connection_errors == attempts:
            # the endpoint has never answered and every attempt failed to connect: a wrong --base-url
            # or a server that is down would fail every request, so stop now rather than after
            # max_consecutive_failures calls of retries
            raise AgentFatalError(f"{self.model}: cannot reach {self.client.base_url} "
                                  f"({attempts} attempt(s)); last error: {last_error}")
        if 0 < s.max_consecutive_failures <= self._consecutive_failures:
            raise AgentFatalError(f"{self.model}: {self._consecutive_failures} API calls in a row failed; "
                                  f"last error: {last_error}")
        return AgentReply("", key, attempts=attempts, error=f"API call failed after {attempts} attempt(s): {last_error}")

    async def aclose(self) -> None:
        await self.client.close()
