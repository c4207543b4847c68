"""Stopping a run cleanly: SIGINT / SIGTERM, and closing its environments within a bound.

A run must stop whatever its environments do, even one whose simulator hangs in a call that never
returns (with ``--env-call-timeout inf`` nothing else ends that call; with a deadline, it would
only end when the deadline passes):

* The first SIGINT (Ctrl-C) or SIGTERM stops dispatching: :class:`StopSignals` cancels the run's
  main task and with it every episode in flight. An interrupted episode writes nothing more: it is
  not recorded (never as the model's failure) and ``--resume`` rebuilds it from its logged steps.
* :func:`release` closes the environments: a close queues behind a call still running, so calls in
  flight get :data:`STOP_GRACE_S` seconds; then every process or Ray actor with a call unanswered
  is killed (:meth:`~embodied_gym.eval.envhost.EnvHost.abort`), which fails those calls, and the
  run ends. (An environment on the environment thread cannot be killed: its call is left running
  on that daemon thread, which does not hold up the process's exit.)
* :func:`~embodied_gym.eval.scheduler.run_eval` then raises :class:`RunInterrupted`, a
  ``KeyboardInterrupt`` naming the signal; ``egym eval`` prints one line and exits with
  ``128 + signal`` (130 for SIGINT, 143 for SIGTERM).
* A second signal does not wait: the busy processes / actors are killed and the process exits at
  once (``os._exit(128 + signal)``) after one line on stderr.

Nothing finished is lost either way: every line of ``steps.jsonl`` is flushed as it is written,
and the response cache is an SQLite database. Signals are handled where Python lets a loop handle
them (the main thread), and only those not ignored (a background job of a shell ignores SIGINT).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("embodied_gym.eval")

#: seconds a stopped run waits for its environments to close (calls in flight to end) before it
#: kills the processes / actors still busy, and again for the killed ones to report
STOP_GRACE_S = 5.0
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by signal ``signum`` (everything it finished is kept; ``--resume``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """SIGINT / SIGTERM handlers on the running loop, for a ``with`` block in the run's main task.

    ``signum``: the first signal received (None: none); ``requested``: set by it. ``task``: what
    the first signal cancels (the main task; set it to None once the run is in its bounded
    clean-up, which a signal must not cut short). ``hard_stop``: called on a second signal before
    the process exits; ``message``: the line then printed (``{signal}`` is the signal's name)."""

    def __init__(self, hard_stop: Callable[[], Any], message: str) -> None:
        self.hard_stop, self.message = hard_stop, message
        self.signum: int | None = None
        self.requested = asyncio.Event()
        self.task: asyncio.Task | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in SIGNALS:
            previous = signal.getsignal(sig)
            if previous == signal.SIG_IGN:
                continue
            try:
                loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # no signals on this loop / platform
                continue
            self._previous[sig] = previous
        return self

    def __exit__(self, *exc: Any) -> None:
        loop = asyncio.get_running_loop()
        for sig, previous in self._previous.items():
            loop.remove_signal_handler(sig)
            if previous is not None:
                signal.signal(sig, previous)
        self._previous.clear()

    def _on_signal(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum
            self.requested.set()
            if self.task is not None:
                self.task.cancel()
            return
        try:
            self.hard_stop()
        finally:
            sys.stderr.write(self.message.replace("{signal}", signal.Signals(signum).name) + "\n")
            sys.stderr.flush()
            os._exit(128 + signum)


async def release(envs: list[Any], host: Any, stop: StopSignals, *, finished: bool) -> None:
    """Close ``envs`` (handles of ``host``). After a finished run each close may take as long as
    it needs (the host's call deadline bounds it) until a stop is requested; after a stopped or
    failed run (``finished`` false), or once a stop is requested, :data:`STOP_GRACE_S` seconds,
    then the host's busy processes / actors are killed and the killed get as long again. A close
    that raised is logged; one still pending after that is left (see the module docstring)."""
    closing = {asyncio.ensure_future(env.close()) for env in envs}
    if not closing:
        return
    pending = closing
    if finished and not stop.requested.is_set():
        waiter = asyncio.ensure_future(stop.requested.wait())
        while pending and not waiter.done():
            _, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(waiter)
        waiter.cancel()
    if pending:
        _, pending = await asyncio.wait(pending, timeout=STOP_GRACE_S)
    if pending:
        killed = host.abort()
        log.warning("%d environment(s) did not close within %g s of the stop: killed %d busy process(es)/actor(s)",
                    len(pending), STOP_GRACE_S, killed)
        if killed:
            _, pending = await asyncio.wait(pending, timeout=STOP_GRACE_S)
    if pending:
        log.warning("%d environment(s) left unclosed: a call that cannot be killed (e.g. on the environment thread) "
                    "is still running", len(pending))
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)
    for task in closing:
        if not task.cancelled() and task.exception() is not None:
            log.warning("closing an environment failed: %r", task.exception())
