"""Seeing runs: HTML reports with episode replays (``egym report``), side-by-side comparisons
with confidence intervals (``egym compare``) and episode videos.

Floor 4 (evaluation): reads run directories written by ``egym eval`` and, to show frames and
maps, replays episodes through the environments (never a backend's internals).
"""
