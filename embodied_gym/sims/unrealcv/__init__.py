"""The ``unrealcv`` backend: a running Unreal level through the ``unrealcv`` client
(:class:`UnrealCVSimulator`; step presets in :data:`PRESETS`)."""

from .presets import PRESETS, StepPreset
from .simulator import UnrealCVSimulator

__all__ = ["PRESETS", "StepPreset", "UnrealCVSimulator"]
