"""Gymnasium environments over episodes and simulators. Importing this module registers them."""

from __future__ import annotations

from .registration import register_all

register_all()
