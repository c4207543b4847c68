"""The ``thor`` backend: AI2-THOR scenes through ``ai2thor.controller.Controller``
(:class:`ThorSimulator`). ``ai2thor`` is imported only when a simulator starts."""

from .simulator import ThorSimulator

__all__ = ["ThorSimulator"]
