"""The ``unrealcv`` backend: a running Unreal level through the ``unrealcv`` client
(:class:`UnrealCVSimulator`; step presets in :data:`PRESETS`)."""

from .simulator import PRESETS, StepPreset, UnrealCVSimulator

__all__ = ["PRESETS", "StepPreset", "UnrealCVSimulator"]
