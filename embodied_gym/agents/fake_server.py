"""A real, local OpenAI-compatible HTTP server with scripted replies and injected faults.

Used by the agent tests (they drive the real ``openai`` client against it) and by
``egym bench harness`` (a model server that answers each request after a fixed latency).

It serves ``POST .../chat/completions`` (any prefix, e.g. ``/v1/chat/completions``) on
``127.0.0.1`` from an asyncio loop on a background thread, HTTP/1.1 with keep-alive, so many
concurrent slow requests cost no threads. Each request gets the next :class:`Behavior` from the
``script`` (FIFO) if any is left, else ``Behavior("ok")``:

* ``ok``           200 with ``reply(body)`` as the assistant content (after ``latency`` seconds); a
                   ``reply`` that returns ``{"content", "tool_calls": [{"name", "arguments"}]}``
                   scripts a tool-calling answer (OpenAI tools API)
* ``rate_limit``   429 with a ``Retry-After`` header (seconds)
* ``server_error`` 500 (or ``status``), with ``message`` as the error text
* ``timeout``      sleeps ``delay`` seconds (default 30) before answering: longer than the client's timeout
* ``malformed``    200 whose body is not JSON
* ``empty``        200 with ``content: ""``; ``null_content``: ``content: null``; ``no_choices``: ``choices: []``
* ``drop``         closes the connection without answering (a connection error)
* ``trickle``      200 headers at once, then one byte of the body every ``delay`` seconds (default
  0.5) for 120 s: every read succeeds, so only a total deadline ends the request

Every request is recorded in :attr:`FakeOpenAIServer.requests` (parsed body, headers, the status
sent back). ``python -m embodied_gym.agents.fake_server --latency 0.2`` runs one in the
foreground and prints its base URL on the first line of stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..sims.base import ACTIONS

KINDS = ("ok", "rate_limit", "server_error", "timeout", "malformed", "empty", "null_content", "no_choices", "drop",
         "trickle")


@dataclass
class Behavior:
    """How the server answers one request (see the module docstring for ``kind``)."""

    kind: str = "ok"
    content: str | None = None  # for "ok": this text instead of reply(body)
    delay: float | None = None  # seconds before answering; default: the server's latency (30 s for timeout)
    retry_after: float = 1.0  # for rate_limit: the Retry-After header, seconds
    status: int | None = None  # for server_error: the status code (default 500)
    message: str | None = None  # for server_error: the error message (default "injected failure")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Behavior.kind: unknown kind {self.kind!r}; expected one of {', '.join(KINDS)}")


def last_user_text(body: dict[str, Any]) -> str:
    """The text parts of the last user message of a chat request body ("" if none)."""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def deterministic_reply(body: dict[str, Any]) -> str:
    """A reply that depends only on the request: an option letter for multiple-choice prompts, else
    a closed-loop action (never ``Finish``) in the ``<think>..</think><answer>..</answer>`` format."""
    text = last_user_text(body)
    h = hashlib.sha256(text.encode("utf-8", "replace"))
    for message in body.get("messages") or []:  # images and earlier messages, without re-serialising JSON
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else [content]:
            url = part.get("image_url", {}).get("url", "") if isinstance(part, dict) else part
            h.update(str(url).encode("utf-8", "replace"))
    h.update(str(body.get("seed")).encode())
    digest = int(h.hexdigest()[:8], 16)
    if re.search(r"correct option|Options?:", text):
        return f"The answer is {'ABCD'[digest % 4]}."
    moves = [a for a in ACTIONS if a != "Finish"]
    return f"<think>I will explore.</think><answer>{moves[digest % len(moves)]}</answer>"


class FakeOpenAIServer:
    """Context manager: ``with FakeOpenAIServer(latency=0.2) as server: server.base_url``."""

    def __init__(
        self,
        reply: Callable[[dict[str, Any]], str | dict] | str | None = None,
        *,
        latency: float = 0.0,
        script: Iterable[Behavior | str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if isinstance(reply, str):
            fixed = reply
            reply = lambda body: fixed  # noqa: E731
        self.reply: Callable[[dict[str, Any]], str | dict] = reply or deterministic_reply
        self.latency = float(latency)
        self.script: deque[Behavior] = deque(Behavior(b) if isinstance(b, str) else b for b in script)
        self.host, self.port = host, port
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._counter = 0

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The URL to pass as the client's ``base_url``; requests go to ``{base_url}/chat/completions``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push(self, *behaviors: Behavior | str) -> None:
        """Append behaviours to the script (thread-safe)."""
        with self._lock:
            self.script.extend(Behavior(b) if isinstance(b, str) else b for b in behaviors)

    def answered(self) -> list[dict[str, Any]]:
        """Recorded requests that got a 200 with a well-formed completion."""
        with self._lock:
            return [r for r in self.requests if r["status"] == 200 and r["kind"] in ("ok", "empty", "null_content")]

    # -- HTTP --------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body_bytes = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                keep = await self._respond(method, path, headers, body_bytes, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(self, method: str, path: str, headers: dict, raw: bytes, writer: asyncio.StreamWriter) -> bool:
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            await self._send(writer, 404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}})
            return True
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            await self._send(writer, 400, {"error": {"message": "request body is not JSON", "type": "invalid_request"}})
            return True
        with self._lock:
            behavior = self.script.popleft() if self.script else Behavior("ok")
            self._counter += 1
            n = self._counter
            record = {"path": path, "body": body, "headers": headers, "kind": behavior.kind, "status": None,
                      "t": time.time()}
            self.requests.append(record)
        kind = behavior.kind
        delay = behavior.delay if behavior.delay is not None else (30.0 if kind == "timeout" else self.latency)
        if kind == "trickle":
            record["status"] = 200
            step = behavior.delay if behavior.delay is not None else 0.5
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            await writer.drain()
            for _ in range(int(120 / step)):
                await asyncio.sleep(step)
                writer.write(b" ")
                await writer.drain()
            return False
        if delay > 0:
            await asyncio.sleep(delay)
        if kind == "drop":
            record["status"] = 0
            return False
        if kind == "rate_limit":
            record["status"] = 429
            await self._send(writer, 429, {"error": {"message": "rate limited", "type": "rate_limit_exceeded"}},
                             extra={"Retry-After": f"{behavior.retry_after:g}"})
            return True
        if kind == "server_error":
            record["status"] = behavior.status or 500
            await self._send(writer, record["status"], {"error": {"message": behavior.message or "injected failure",
                                                                  "type": "server_error"}})
            return True
        if kind == "malformed":
            record["status"] = 200
            await self._send_raw(writer, 200, b'{"id": "chatcmpl-broken", "choices": [ {"mess', "application/json")
            return True
        content: str | None
        tool_calls = None
        if kind == "empty":
            content = ""
        elif kind == "null_content":
            content = None
        else:
            content = behavior.content if behavior.content is not None else self.reply(body)
            if isinstance(content, dict):  # a scripted tool call: {"content": ..., "tool_calls": [{"name", "arguments"}]}
                tool_calls = [{"id": f"call_{n}_{i}", "type": "function",
                               "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))}}
                              for i, c in enumerate(content.get("tool_calls") or [])]
                content = content.get("content")
        prompt_tokens = max(1, len(raw) // 4)
        completion_tokens = len(content or "") // 4 + 1
        choices = [] if kind == "no_choices" else [
            {"index": 0, "message": {"role": "assistant", "content": content,
                                     **({"tool_calls": tool_calls} if tool_calls else {})},
             "finish_reason": "tool_calls" if tool_calls else "stop"}
        ]
        record["status"] = 200
        await self._send(writer, 200, {
            "id": f"chatcmpl-{n}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"), "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })
        return True

    async def _send(self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict | None = None) -> None:
        await self._send_raw(writer, status, json.dumps(payload).encode(), "application/json", extra)

    @staticmethod
    async def _send_raw(writer: asyncio.StreamWriter, status: int, data: bytes, ctype: str,
                        extra: dict | None = None) -> None:
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests"}.get(status, "Error")
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {ctype}", f"Content-Length: {len(data)}",
                "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
        await writer.drain()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run a fake OpenAI-compatible server until stdin closes or SIGTERM")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds before each answer")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default=None, help="fixed reply text (default: deterministic_reply)")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(args.reply, latency=args.latency, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes our stdin or dies
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
