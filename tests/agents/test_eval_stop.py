"""Stopping a run whose environment hangs for ever (``embodied_gym/eval/stopping.py``), checked
from outside on real ``egym eval`` processes: the oracle on ``EgymCrash-v0``, whose episode
``toy-002`` sleeps an hour in ``step`` (a deadlocked simulator), once per marker file.

Each test proves, for one way the environments run and one way the run is stopped, that after the
signal the process exits by itself (the ``wait`` timeouts only keep a failing test from hanging
CI; they assert no speed) with 128 + the signal and one clear line, the episodes finished before it
are on disk, the interrupted episode is recorded nowhere (not as the model's failure, not even as an
infrastructure failure), no process of the run is left behind, and ``--resume`` finishes the run
without running a finished episode again. Before eval/stopping.py, SIGINT waited for ever on a
worker whose call deadline was off (``--env-call-timeout inf``) and for the whole deadline when on,
SIGTERM left the hung worker running, and an environment hung on the environment thread kept the
process alive after any number of Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HUNG = "toy-002"


def _egym(out, marker, *extra):
    kwargs = {"crash_episode": HUNG, "crash_marker": str(marker), "hang": 3600}
    return [sys.executable, "-m", "embodied_gym.cli", "eval", "--env", "crash_env:EgymCrash-v0", "--episodes", "toy:6",
            "--agent", "oracle", "--concurrency", "2", "--out", str(out), "--no-progress",
            "--env-kwargs", json.dumps(kwargs), *extra]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests" / "agents"), env.get("PYTHONPATH", "")])
    return env


def _records(out):
    path = out / "steps.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _left_behind(pids, grace=10.0):
    """Those of ``pids`` still alive ``grace`` seconds after the run exited: the run's helper
    processes (multiprocessing's forkserver / resource tracker) end by themselves once they read
    the end of the run's pipe, a moment after it exits; a process still there after that was left
    behind."""
    deadline = time.monotonic() + grace
    while (alive := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _descendants(pid):
    """Every live process below ``pid`` (read from /proc)."""
    parent = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - found
        found |= frontier
    return {p for p in found if _alive(p)}


def _stop_hung_run(tmp_path, extra, finished, signals, group=False):
    """Start the run, wait until ``HUNG`` hangs and ``finished`` episodes are logged, send
    ``signals`` (to the process group when ``group``: a Ctrl-C in a terminal), and return
    ``(exit status, stderr, the run's descendants before the signal, the hung pid, the episodes
    finished before the signal, out)``."""
    out, marker, err_path = tmp_path / "run", tmp_path / "hung-once", tmp_path / "stderr"
    with open(err_path, "w") as err:  # a file, not a pipe: a process left behind would hold a pipe open
        proc = subprocess.Popen(_egym(out, marker, *extra), env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not (marker.exists() and marker.read_text()) or \
                sum(r["type"] == "episode" for r in _records(out)) < finished:
            assert proc.poll() is None, err_path.read_text()
            assert time.monotonic() < deadline, "the run never reached the hang"
            time.sleep(0.1)
        children = _descendants(proc.pid)
        before = {r["episode_id"] for r in _records(out) if r["type"] == "episode"}
        for sig in signals:
            (os.killpg if group else os.kill)(proc.pid, sig)
            time.sleep(0.5)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, err_path.read_text(), children, int(marker.read_text()), before, out
    finally:
        for pid in _descendants(proc.pid) | {proc.pid}:  # never leave a hung run behind, whatever failed
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()


def _check_kept_and_resumable(tmp_path, out, before):
    records = _records(out)
    done = {r["episode_id"] for r in records if r["type"] == "episode"}
    assert done >= before and HUNG not in done
    assert all(r["result"] is not None for r in records if r["type"] == "episode")
    assert not [r for r in records if r["type"] == "infra_failure"]  # an interrupt is nobody's failure
    resumed = subprocess.run(_egym(out, tmp_path / "hung-once", "--resume"), env=_env(), cwd=ROOT,
                             capture_output=True, text=True, timeout=240)  # the marker exists: no hang now
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["overall"]["n"] == 6 and summary["run"]["n_errors"] == 0
    records = _records(out)
    ends = Counter(r["episode_id"] for r in records if r["type"] == "episode")
    assert set(ends) == {f"toy-{i:03d}" for i in range(6)} and max(ends.values()) == 1  # none run twice
    assert max(Counter((r["episode_id"], r["step"]) for r in records if r["type"] == "step").values()) == 1


CASES = {  # name: (extra flags, episodes to wait for before the signal, signal, to the process group)
    # worker processes, the call deadline off: only the stop can end the hung call
    "workers-no-deadline-ctrl-c": (["--env-workers", "2", "--env-call-timeout", "inf"], 5, signal.SIGINT, True),
    "workers-no-deadline-sigterm": (["--env-workers", "2", "--env-call-timeout", "inf"], 5, signal.SIGTERM, False),
    # the default deadline (120 s) on: the stop does not wait for it
    "workers-deadline-sigint": (["--env-workers", "2"], 5, signal.SIGINT, False),
    # the environment thread (no workers): the hung call cannot be killed, the process still ends
    "thread-sigint": ([], 2, signal.SIGINT, False),
    "thread-sigterm": ([], 2, signal.SIGTERM, False),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_signal_stops_a_run_with_a_hung_environment_keeping_its_results(tmp_path, case):
    extra, finished, sig, group = CASES[case]
    rc, err, children, hung_pid, before, out = _stop_hung_run(tmp_path, extra, finished, [sig], group)
    assert rc == 128 + sig, (rc, err)
    assert "Traceback" not in err and "--resume" in err.strip().splitlines()[-1], err
    assert ("interrupted" if sig == signal.SIGINT else "stopped by SIGTERM") in err
    if "--env-workers" in extra:
        assert hung_pid in children  # the hang was in a worker process of the run
    assert not _left_behind(children), "a process of the run was left behind"
    _check_kept_and_resumable(tmp_path, out, before)


@pytest.mark.slow
def test_a_second_ctrl_c_stops_at_once_and_kills_the_hung_worker(tmp_path):
    """The second SIGINT does not wait for the grace period: one line says so, the hung worker is
    killed, the run exits 130 and is still resumable."""
    extra = ["--env-workers", "2", "--env-call-timeout", "inf"]
    rc, err, children, hung_pid, before, out = _stop_hung_run(tmp_path, extra, 5, [signal.SIGINT, signal.SIGINT])
    assert rc == 130 and "stopped at once (a second SIGINT)" in err and "Traceback" not in err, (rc, err)
    assert hung_pid in children and not _left_behind(children)
    _check_kept_and_resumable(tmp_path, out, before)
