"""Shared test configuration.

* Headless rendering for MiniWorld before anything imports pyglet.
* Triton (pulled in by torch/transformers) segfaults when it is first imported after Mesa's
  llvmpipe has loaded in the same process; the house renderer imports it early, and so do we
  here, because test modules may import stock ``miniworld`` before any house simulator exists.
"""

import os

os.environ.setdefault("PYGLET_HEADLESS", "true")

try:  # pragma: no cover - only matters where torch's triton is installed
    import triton  # noqa: F401
except Exception:
    pass
