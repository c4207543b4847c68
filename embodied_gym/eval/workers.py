"""``egym eval --env-workers N``: environments in N worker processes.

Each worker is a ``spawn``-ed process (a fresh interpreter: its own OpenGL context, no state
inherited from the event loop's process) holding several environments, addressed by slot, and
serving one call at a time on its main thread, the only thread that touches its GL context. The
scheduler's handles are spread round-robin over the workers. Calls go over a pipe as
``(request id, slot, op, args, frame spec)``, replies as ``(request id, ok, value, encoded
frame)``; a reader thread per worker resolves the awaiting futures on the event loop, so the loop
(and every API call) stays in the main process and never blocks on rendering. When the run's agent
has a ``frame_encoder`` (API models: JPEG data URLs), ``reset`` / ``step`` calls carry its
``spec`` and the worker encodes the new observation's frame next to the simulator
(:func:`~embodied_gym.agents.frame_encoding.encode_image`, the function the agent would call); the
handle primes the agent's encoder with it, so the event loop's process, whose one interpreter lock
every request needs, does not compress frames.

A worker that dies (a segfault in a driver, the OOM killer, ``os._exit``) fails every call in
flight with :class:`~embodied_gym.eval.envhost.EnvLost`; the next call starts a new process
(at most ``max_restarts`` times per worker, then every call fails with ``EnvLost``), and each
handle makes its environment again there before its next call.

A worker that is alive but does not answer (a deadlocked driver, an endless loop in an env) is
caught by the per-call deadline ``call_timeout``: when a worker with calls to answer has sent no
reply for ``call_timeout`` seconds (counted from its last reply, or from the call that found it
idle, so a long queue of quick calls is not a hang), it is killed (``SIGKILL``) and handled as a
dead one: every call in flight fails with ``EnvLost`` (an infrastructure failure, never the
model's), the next call restarts it. A freshly started worker gets :data:`STARTUP_GRACE` more
seconds for its first answer (a new interpreter, imports, the first OpenGL context).

Workers ignore SIGINT (a Ctrl-C in a terminal reaches the whole process group): the event loop's
process decides when they stop. When a run is stopped (:mod:`.stopping`), :meth:`ProcessHost.abort`
kills every worker that still has calls to answer, so those calls fail with ``EnvLost`` instead of
waiting for a simulator that may never return.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing as mp
import os
import pickle
import signal
import socket
import threading
import time
from typing import Any

from ..envs.context import observation_image
from .envhost import EnvHandle, EnvHost, EnvInfo, EnvLost, describe

log = logging.getLogger("embodied_gym.eval")

#: seconds added to ``call_timeout`` for the first answer of a newly started worker process
STARTUP_GRACE = 60.0
#: socket buffer asked for each end of a worker's pipe (the kernel caps it at net.core.wmem_max /
#: rmem_max): large enough for several frames, so a worker writes a reply in one go and serves its
#: next call instead of waiting until the event loop's process, short of the GIL, has read it
PIPE_BUFFER = 4 << 20


def _widen(conn: Any, size: int = PIPE_BUFFER) -> None:
    """Best effort: ``size``-byte send and receive buffers for the socket under ``conn``."""
    try:
        with socket.socket(fileno=os.dup(conn.fileno())) as sock:
            for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
                sock.setsockopt(socket.SOL_SOCKET, opt, size)
    except (OSError, ValueError):
        pass


def _encode_frame(obs: Any, spec: tuple | None) -> tuple[str, str] | None:
    """The agent's encoding of ``obs``'s frame (``encode_image(frame, *spec)``), or ``None``
    (no spec, no frame, or it failed here: the agent then encodes it itself and reports errors)."""
    image = observation_image(obs) if spec is not None else None
    if image is None:
        return None
    from ..agents.frame_encoding import encode_image

    try:
        return encode_image(image, *spec)
    except Exception:  # noqa: BLE001 -- only a cache: the event loop's process encodes it again
        return None


def _serve(conn: Any) -> None:
    """The worker's loop: make / reset / step / perceive / close envs by slot until ``exit``."""
    from . import envside

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the event loop's process's to handle
    envs: dict[int, Any] = {}
    ops = {"reset": envside.reset, "step": envside.step, "perceive": envside.perceive}
    while True:
        try:
            rid, slot, op, args, spec = conn.recv()
        except (EOFError, OSError):
            break
        if op == "exit":
            break
        try:
            if op == "make":
                old = envs.pop(slot, None)
                if old is not None:
                    old.close()
                envs[slot] = envside.make_env(*args)
                result: Any = describe(envs[slot])
            elif op == "close":
                env = envs.pop(slot, None)
                result = env.close() if env is not None else None
            else:
                result = ops[op](envs[slot], *args)
            reply = (rid, True, result, _encode_frame(result[0], spec) if op in ("reset", "step") else None)
        except BaseException as exc:  # noqa: BLE001 -- sent back to the caller, who decides
            reply = (rid, False, _portable(exc), None)
        try:
            conn.send(reply)
        except Exception as exc:  # noqa: BLE001 -- e.g. an unpicklable result or exception
            conn.send((rid, False, RuntimeError(f"env worker could not send the result of {op}: {exc!r}"), None))
    for env in envs.values():
        try:
            env.close()
        except Exception:  # noqa: BLE001
            pass


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip (some exception classes cannot be rebuilt from
    their ``args``), else a ``RuntimeError`` carrying its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class _Worker:
    """One worker process and its pipe, restarted on demand after it died."""

    def __init__(self, index: int, max_restarts: int, call_timeout: float | None = None) -> None:
        self.index, self.max_restarts, self.call_timeout = index, max_restarts, call_timeout
        self.ctx = mp.get_context("spawn")
        self.generation = 0  # incremented at every start: handles re-make their env after a restart
        self.restarts = -1
        self.proc: Any = None
        self.conn: Any = None
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future]] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count()
        self.alive = False
        self.progress = 0.0  # monotonic time of the last sign of life: a reply, or a call sent to an idle worker
        self.hangs = 0  # processes killed for not answering within call_timeout
        self.killed: dict[int, str] = {}  # pid -> why this host killed it (for the EnvLost messages)

    def _start(self) -> None:
        if self.restarts >= self.max_restarts:
            raise EnvLost(f"env worker {self.index} died {self.restarts + 1} times; not restarted again "
                          f"(max_restarts={self.max_restarts})", restarted=False)
        parent, child = self.ctx.Pipe()
        for end in (parent, child):
            _widen(end)
        self.proc = self.ctx.Process(target=_serve, args=(child,), name=f"egym-env-worker-{self.index}", daemon=True)
        self.proc.start()
        child.close()
        self.conn, self.alive = parent, True
        self.progress = time.monotonic() + STARTUP_GRACE
        self.generation += 1
        self.restarts += 1
        threading.Thread(target=self._read, args=(parent, self.proc), name=f"egym-env-reader-{self.index}",
                         daemon=True).start()

    def _read(self, conn: Any, proc: Any) -> None:
        while True:
            try:
                rid, ok, value, encoded = conn.recv()
            except (EOFError, OSError):
                break
            except Exception as exc:  # noqa: BLE001 -- an unpicklable message: fail that call only
                log.warning("env worker %d sent an unreadable message: %r", self.index, exc)
                continue
            with self.lock:
                waiter = self.pending.pop(rid, None)
                self.progress = time.monotonic()  # (this also ends a new worker's start-up grace)
            if waiter is not None:
                _settle_soon(*waiter, ok, (value, encoded) if ok else value)
        proc.join(timeout=5)
        with self.lock:
            if self.conn is conn:
                self.alive = False
            lost, self.pending = self.pending, {}
        code = proc.exitcode
        why = self.killed.pop(proc.pid, None) or f"died during the call (exit code {code})"
        for loop, fut in lost.values():
            _settle_soon(loop, fut, False, EnvLost(f"env worker {self.index} (pid {proc.pid}) {why}", restarted=True))

    async def call(self, slot: int, op: str, *args: Any, encode: tuple | None = None) -> Any:
        """The result of ``op`` on the env in ``slot``; with ``encode`` (a frame spec),
        ``(result, encoded frame or None)``."""
        with self.lock:
            if not self.alive:
                self._start()
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            rid = next(self.ids)
            if not self.pending:  # an idle worker: its deadline counts from this call
                self.progress = max(self.progress, time.monotonic())
            self.pending[rid] = (loop, fut)
            conn, proc = self.conn, self.proc
        try:
            conn.send((rid, slot, op, args, encode))
        except (OSError, ValueError) as exc:  # the pipe broke: the reader fails the call
            with self.lock:
                self.pending.pop(rid, None)
                self.alive = False
            raise EnvLost(f"env worker {self.index} is gone: {exc!r}", restarted=True) from None
        try:
            while self.call_timeout is not None and not fut.done():
                left = self.progress + self.call_timeout - time.monotonic()
                if left > 0:
                    await asyncio.wait({fut}, timeout=left)
                    continue
                if self._kill(proc, f"did not answer within the call deadline ({self.call_timeout:g} s without a "
                                    f"reply, during {op}); killed as hung"):
                    self.hangs += 1
                    log.warning("env worker %d (pid %d) has not answered for %g s (during %s): killing it",
                                self.index, proc.pid, self.call_timeout, op)
                await asyncio.wait({fut}, timeout=30.0)  # the reader fails every call in flight once it is gone
                if not fut.done():
                    with self.lock:
                        self.pending.pop(rid, None)
                    raise EnvLost(f"env worker {self.index} (pid {proc.pid}) did not answer {op} and could not be "
                                  "reaped", restarted=True)
            value, encoded = await fut
        except BaseException:  # e.g. cancelled (a stopped run): nobody reads this call's answer
            fut.cancel()  # (its entry stays in pending until the worker answers: the worker is still busy)
            raise
        return value if encode is None else (value, encoded)

    def _kill(self, proc: Any, why: str) -> bool:
        """Kill ``proc`` (if still this worker's live process; ``why`` ends the ``EnvLost`` message
        of each call in flight, which its reader thread then fails; the next call restarts it).
        False when there was nothing to kill."""
        with self.lock:
            if proc is not self.proc or proc.pid in self.killed or not proc.is_alive():
                return False
            self.killed[proc.pid] = why
        proc.kill()
        return True

    def abort(self) -> bool:
        """Kill the process if it has calls to answer (see :meth:`ProcessHost.abort`)."""
        with self.lock:
            proc = self.proc if self.alive and self.pending else None
        return proc is not None and self._kill(proc, "was killed with calls unanswered: the run was stopped")

    def stop(self) -> None:
        if self.proc is None:
            return
        with self.lock:
            alive, self.alive = self.alive, False
        if alive:
            try:
                self.conn.send((-1, 0, "exit", (), None))
            except (OSError, ValueError):
                pass
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


def _settle_soon(loop: asyncio.AbstractEventLoop, fut: asyncio.Future, ok: bool, value: Any) -> None:
    """Settle ``fut`` on its loop (from a reader thread); nothing to do once that loop is closed."""
    try:
        loop.call_soon_threadsafe(_settle, fut, ok, value)
    except RuntimeError:  # the loop is closed: the run is over and nobody awaits the call
        pass


def _settle(fut: asyncio.Future, ok: bool, value: Any) -> None:
    if fut.done():
        return
    if ok:
        fut.set_result(value)
    else:
        fut.set_exception(value if isinstance(value, BaseException) else RuntimeError(str(value)))


class _ProcessHandle(EnvHandle):
    def __init__(self, worker: _Worker, slot: int, make_args: tuple, host: EnvHost) -> None:
        self.worker, self.slot, self.make_args, self.host = worker, slot, make_args, host
        self.generation = -1

    async def _ensure(self) -> None:
        if self.generation != self.worker.generation or not self.worker.alive:
            info = await self.worker.call(self.slot, "make", *self.make_args)
            self.info: EnvInfo = info
            self.generation = self.worker.generation

    async def reset(self, episode: str, seed: int, oracle: bool) -> tuple[Any, Any]:
        await self._ensure()
        return await self._framed("reset", episode, seed, oracle)

    async def step(self, action: str, oracle: bool) -> tuple:
        self._check()
        return await self._framed("step", action, oracle)

    async def _framed(self, op: str, *args: Any) -> Any:
        """``op`` (reset / step, whose result starts with the observation); with the host's frame
        encoder set, the worker encodes the new frame and the encoder is primed with it."""
        encoder = self.host.frame_encoder
        if encoder is None:
            return await self.worker.call(self.slot, op, *args)
        result, encoded = await self.worker.call(self.slot, op, *args, encode=tuple(encoder.spec))
        image = observation_image(result[0]) if encoded is not None else None
        if image is not None:
            encoder.prime(image, encoded)
        return result

    async def perceive(self, report: bool, state: bool) -> tuple[str | None, dict | None]:
        return await self._call("perceive", report, state)

    def _check(self) -> None:
        if self.generation != self.worker.generation:  # restarted since this env's episode began
            raise EnvLost(f"env worker {self.worker.index} was restarted; the episode's state is gone", restarted=True)

    async def _call(self, op: str, *args: Any) -> Any:
        self._check()
        return await self.worker.call(self.slot, op, *args)

    async def close(self) -> None:
        if self.worker.alive and self.generation == self.worker.generation:
            try:
                await self.worker.call(self.slot, "close")
            except EnvLost:
                pass


class ProcessHost(EnvHost):
    """``workers`` worker processes; handle ``i`` lives in worker ``i % workers``.
    ``max_restarts``: restarts allowed per worker. ``call_timeout``: seconds a worker with calls
    to answer may go without replying before it is killed as hung (None: no deadline); see the
    module docstring."""

    name = "processes"

    def __init__(self, env_id: str, episodes: Any, env_kwargs: dict[str, Any], workers: int,
                 max_restarts: int = 10, call_timeout: float | None = None) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"env_workers must be an integer >= 1, got {workers!r}")
        if call_timeout is not None and not call_timeout > 0:
            raise ValueError(f"env_call_timeout must be > 0 seconds, got {call_timeout!r}")
        self.make_args = (env_id, episodes, dict(env_kwargs))
        self.workers = [_Worker(i, max_restarts, call_timeout) for i in range(workers)]
        self.slots = itertools.count()

    async def make(self) -> EnvHandle:
        slot = next(self.slots)
        handle = _ProcessHandle(self.workers[slot % len(self.workers)], slot, self.make_args, self)
        await handle._ensure()
        return handle

    async def shutdown(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, lambda: [w.stop() for w in self.workers])

    def abort(self) -> int:
        """Kill (``SIGKILL``) every worker process with calls still to answer; each of those calls
        fails with ``EnvLost`` and the worker is started again by its next call. Idle workers are
        left alone (they exit when their pipe closes)."""
        return sum(w.abort() for w in self.workers)

    def stats(self) -> dict[str, Any]:
        return {"env_host": self.name, "env_workers": len(self.workers),
                "env_worker_restarts": sum(max(0, w.restarts) for w in self.workers),
                "env_worker_hangs": sum(w.hangs for w in self.workers)}
