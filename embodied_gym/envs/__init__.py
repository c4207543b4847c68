"""Gymnasium environments over episodes and simulators.

The ids are registered on ``import embodied_gym`` (:mod:`embodied_gym.registration`, entry points
as strings); importing this package loads no environment module by itself.
"""
