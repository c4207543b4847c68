"""A connection to an UnrealCV server through the real ``unrealcv.Client``.

UnrealCV frames every message as ``uint32 magic 0x9E2B83C1``, ``uint32 length``, payload; a
request payload is ``"<id>:<command>"`` and the reply echoes the id. The client is used as is;
this module adds what the simulator needs around it: connecting with retries and a clear error
naming the address, a per-request timeout that turns a dead or silent server into
:class:`~embodied_gym.sims.base.InfrastructureError`, and the decoders of UnrealCV's replies
(floats, ``(R=..,G=..,B=..,A=..)`` colours, PNG and NPY payloads).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import threading
import time

import numpy as np
from PIL import Image

from ..base import InfrastructureError

ADDRESS_ENV = "UNREALCV_ADDRESS"


def parse_address(address: tuple[str, int] | str | None) -> tuple[str, int]:
    """``("host", port)`` from a tuple, ``"host:port"`` or ``$UNREALCV_ADDRESS`` (default
    ``127.0.0.1:9000``, UnrealCV's default port)."""
    if address is None:
        address = os.environ.get(ADDRESS_ENV, "127.0.0.1:9000")
    if isinstance(address, str):
        host, _, port = address.rpartition(":")
        address = (host or "127.0.0.1", port)
    try:
        host, port = str(address[0]), int(address[1])
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"address: expected (host, port) or 'host:port' (got {address!r})") from None
    if not 0 < port < 65536:
        raise ValueError(f"address: port {port} out of range")
    return host, port


class Connection:
    """Requests to one UnrealCV server; see the module docstring."""

    def __init__(self, address: tuple[str, int] | str | None, *, retries: int = 5, retry_delay: float = 1.0,
                 timeout: float = 30.0):
        import unrealcv

        self.address = parse_address(address)
        self.timeout = float(timeout)
        #: set once a request failed: the message ids of the stream can no longer be trusted
        self.broken = False
        self.client = unrealcv.Client(self.address)
        for attempt in range(max(1, int(retries))):
            with contextlib.redirect_stdout(sys.stderr):  # the client prints connection chatter
                if self.client.connect(timeout=max(1, int(timeout))):
                    return
            if attempt + 1 < retries:
                time.sleep(retry_delay)
        host, port = self.address
        raise ConnectionError(f"no UnrealCV server answered at {host}:{port} after {retries} attempts "
                              f"(start the Unreal binary with the UnrealCV plugin, or set {ADDRESS_ENV}=host:port)")

    def request(self, command: str) -> str | bytes:
        """Send one command and return its reply; a silent or closed server raises
        :class:`InfrastructureError`."""
        if self.broken:
            raise InfrastructureError(f"UnrealCV connection to {self.address[0]}:{self.address[1]} was lost "
                                      "earlier; build a new simulator once the server is back", backend="unrealcv")
        try:
            reply = self.client.request(command, timeout=max(1, int(self.timeout)))
        except (TimeoutError, ConnectionError, OSError) as exc:
            self.broken = True
            raise InfrastructureError(f"UnrealCV server {self.address[0]}:{self.address[1]} failed on "
                                      f"{command!r}: {exc}", backend="unrealcv") from exc
        if reply is None:
            raise InfrastructureError(f"UnrealCV server {self.address[0]}:{self.address[1]} closed the connection "
                                      f"during {command!r}", backend="unrealcv")
        return reply

    def batch(self, commands: list[str]) -> list[str | bytes]:
        """Several commands in one round trip (UnrealCV answers them in order). The client's batch
        call has no timeout, so it runs in a daemon thread waited on for ``timeout`` seconds."""
        if self.broken:
            raise InfrastructureError(f"UnrealCV connection to {self.address[0]}:{self.address[1]} was lost "
                                      "earlier; build a new simulator once the server is back", backend="unrealcv")
        box: dict[str, object] = {}

        def run() -> None:
            try:
                box["replies"] = self.client.request(list(commands))
            except BaseException as exc:  # noqa: BLE001 (handed to the caller below)
                box["error"] = exc

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(self.timeout)
        exc = box.get("error")
        if worker.is_alive() or isinstance(exc, (TimeoutError, ConnectionError, OSError)):
            self.broken = True
            why = f"no answer within {self.timeout:g} s" if worker.is_alive() else f"{type(exc).__name__}: {exc}"
            raise InfrastructureError(f"UnrealCV server {self.address[0]}:{self.address[1]} failed on a batch "
                                      f"starting {commands[0]!r}: {why}", backend="unrealcv")
        if isinstance(exc, BaseException):
            raise exc
        replies = box["replies"]
        if replies is None or any(r is None for r in replies):  # type: ignore[union-attr]
            raise InfrastructureError(f"UnrealCV server {self.address[0]}:{self.address[1]} closed the connection",
                                      backend="unrealcv")
        return replies  # type: ignore[return-value]

    def text(self, command: str) -> str:
        reply = self.request(command)
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        if text.lower().startswith("error"):
            raise RuntimeError(f"UnrealCV refused {command!r}: {text.strip()}")
        return text

    def floats(self, command: str, n: int) -> list[float]:
        text = self.text(command)
        vals = [float(v) for v in re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", text)]
        if len(vals) != n:
            raise RuntimeError(f"UnrealCV {command!r}: expected {n} numbers, got {text!r}")
        return vals

    @staticmethod
    def color(reply: str | bytes, what: str) -> tuple[int, int, int]:
        """A ``(R=..,G=..,B=..,A=..)`` reply as ``(r, g, b)``."""
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        m = {k: int(v) for k, v in re.findall(r"([RGB])=(\d+)", text)}
        if set(m) != {"R", "G", "B"}:
            raise RuntimeError(f"UnrealCV {what}: expected (R=..,G=..,B=..,A=..), got {text!r}")
        return (m["R"], m["G"], m["B"])

    @staticmethod
    def png(data: str | bytes, what: str) -> np.ndarray:
        """A PNG reply (``lit``, ``object_mask``) as ``H x W x 3`` uint8."""
        if not isinstance(data, bytes) or not data.startswith(b"\x89PNG"):
            raise RuntimeError(f"UnrealCV {what}: expected PNG bytes, got {str(data)[:80]!r}")
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)

    @staticmethod
    def npy(data: str | bytes, what: str) -> np.ndarray:
        """An NPY reply (``depth npy``) as an array."""
        if not isinstance(data, bytes) or not data.startswith(b"\x93NUMPY"):
            raise RuntimeError(f"UnrealCV {what}: expected NPY bytes, got {str(data)[:80]!r}")
        return np.load(io.BytesIO(data), allow_pickle=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
