"""One run per run directory: an exclusive lock on ``OUT/.lock`` held for the run's whole life.

:class:`RunLock` takes an ``fcntl.flock`` exclusive lock on ``OUT/.lock`` without waiting and
writes the holder (pid, host, start time) into the file. The kernel drops the lock
when the holding process ends, however it ends (exit, crash, ``SIGKILL``), so the lock of a dead
run is never stale: the next run takes it over (and says whose it was). A second run while the
first is alive fails at once with :class:`RunDirLocked`, naming the folder and the holder.
Works on local filesystems (``flock``); on a network filesystem without ``flock`` support the
lock is advisory at best.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("embodied_gym.eval")

LOCK_NAME = ".lock"


class RunDirLocked(ValueError):
    """Another live process holds the run directory (``holder``: what it wrote in the lock file)."""

    def __init__(self, out: Path, holder: dict[str, Any]) -> None:
        who = (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('started', '?')}"
               if holder else "another process")
        super().__init__(f"{out} is in use by a running egym eval ({who}); wait for it to finish or choose another --out")
        self.out, self.holder = out, holder


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


class RunLock:
    """``with RunLock(out): ...`` -- see the module docstring. ``previous`` is the holder record
    left by an earlier run that ended without releasing it (``{}`` when none)."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out / LOCK_NAME
        self._fd: int | None = None
        self.previous: dict[str, Any] = {}

    def acquire(self) -> RunLock:
        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunDirLocked(self.out, _read_holder(self.path)) from None
        except BaseException:
            os.close(fd)
            raise
        self.previous = _read_holder(self.path)
        if self.previous.get("pid") and not self.previous.get("released"):
            log.warning("%s: taking over the lock of a run that ended without releasing it (pid %s, started %s)",
                        self.out, self.previous.get("pid"), self.previous.get("started"))
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            holder = _read_holder(self.path)
            holder["released"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, json.dumps(holder).encode(), 0)
        except OSError:
            pass
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
