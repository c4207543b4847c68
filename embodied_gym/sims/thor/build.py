"""Finding an AI2-THOR Unity build offline and explaining why one cannot start.

ai2thor looks its Unity build up online (by commit) and downloads it to
``~/.ai2thor/releases/thor-<Platform>-<commit>/``. Offline, or on a machine that must not
download, there are three ways to give it one, checked in this order:

1. ``local_executable_path=PATH`` (passed to the Controller as is): any executable speaking
   ai2thor's FIFO protocol, e.g. ``.../thor-Linux64-<commit>/thor-Linux64-<commit>``;
2. the environment variable ``AI2THOR_BUILD_PATH`` naming such an executable;
3. a pre-populated ``~/.ai2thor/releases/`` folder (copied from a machine that downloaded the
   build): ai2thor finds it by itself when its commit matches the installed package's.

Platforms: ``CloudRendering`` renders headless on a GPU through Vulkan (no X server);
``Linux64`` needs an X server (``x_display=":0"`` or ``$DISPLAY``). :func:`platform_problems`
says which of the two a machine lacks.
"""

from __future__ import annotations

import ctypes.util
import glob
import os
from typing import Any

BUILD_PATH_ENV = "AI2THOR_BUILD_PATH"


def resolve_executable(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with ``local_executable_path`` filled from ``$AI2THOR_BUILD_PATH`` when absent;
    raises ``ValueError`` naming the path when it is not an executable file."""
    out = dict(kwargs)
    path = out.get("local_executable_path") or os.environ.get(BUILD_PATH_ENV) or None
    if path is None:
        return out
    source = "local_executable_path" if out.get("local_executable_path") else BUILD_PATH_ENV
    path = os.path.expanduser(str(path))
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise ValueError(f"{source}: {path!r} is not an executable file (an AI2-THOR Unity build, e.g. "
                         "~/.ai2thor/releases/thor-Linux64-<commit>/thor-Linux64-<commit>)")
    out["local_executable_path"] = path
    if not (out.get("x_display") or os.environ.get("DISPLAY")):
        # ai2thor launches a local executable as a Linux64 (X11) build and exports DISPLAY
        raise ValueError(f"x_display: ai2thor starts local executables ({path}) as Linux64 builds, which need an "
                         "X display; pass x_display=':0' (or set DISPLAY)")
    return out


def platform_problems(platform: str | None, x_display: str | None) -> list[str]:
    """What this machine lacks for each candidate platform (empty when one looks usable)."""
    problems = []
    want_cloud = platform in (None, "CloudRendering")
    want_x = platform in (None, "Linux64")
    vulkan_ok = bool(ctypes.util.find_library("vulkan")) and bool(
        glob.glob("/usr/share/vulkan/icd.d/*.json") + glob.glob("/etc/vulkan/icd.d/*.json"))
    display = x_display or os.environ.get("DISPLAY")
    x_ok = False
    if display:
        num = display.split(":")[-1].split(".")[0]
        x_ok = os.path.exists(f"/tmp/.X11-unix/X{num}")
    if want_cloud and not vulkan_ok:
        problems.append("CloudRendering (headless GPU) needs Vulkan: libvulkan and an ICD in /usr/share/vulkan/icd.d "
                        "(apt install libvulkan1 + the NVIDIA driver's Vulkan ICD) -- not found")
    if want_x and not x_ok:
        problems.append(f"Linux64 needs a running X server on display {display or '(none: pass x_display or set DISPLAY)'}"
                        " -- not found (start Xorg/Xvfb, or use platform='CloudRendering')")
    if (want_cloud and vulkan_ok) or (want_x and x_ok):
        return []
    return problems


def explain_start_failure(exc: BaseException, platform: str | None, x_display: str | None) -> str:
    """A message for a Controller that could not start, naming what is missing."""
    text = str(exc)
    lines = [f"AI2-THOR could not start: {type(exc).__name__}: {text.strip().splitlines()[0] if text.strip() else ''}"]
    if "no build exists" in text.lower() or "invalid commit_id" in text.lower():
        lines.append("No Unity build is available offline. Pass local_executable_path=PATH, set "
                     f"{BUILD_PATH_ENV}=PATH, or copy a downloaded ~/.ai2thor/releases/thor-<Platform>-<commit>/ "
                     "folder to this machine (see docs/BACKENDS.md).")
    lines += platform_problems(platform, x_display)
    return "\n".join(lines)
