"""Gymnasium environments over episodes and simulators. Importing this module registers them."""

from __future__ import annotations

# each environment module adds its ids to ENV_SPECS when imported (light imports only: the
# simulator backends load lazily on the first reset)
from . import bear as _bear  # noqa: F401
from . import bear_skill as _bear_skill  # noqa: F401
from . import closed_loop as _closed_loop  # noqa: F401
from . import replay as _replay  # noqa: F401
from .registration import register_all

register_all()
