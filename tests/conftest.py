"""Shared test configuration: headless rendering for MiniWorld before anything imports pyglet."""

import os

os.environ.setdefault("PYGLET_HEADLESS", "true")
