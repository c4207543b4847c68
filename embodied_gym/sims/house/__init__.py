"""House: procedural multi-room houses on Farama MiniWorld, rendered headless through EGL.

``generate_house_spec(seed)`` draws a :class:`HouseSpec`; ``HouseSimulator`` (registered as the
``house`` backend of :func:`embodied_gym.sims.make_simulator`) loads and renders it.
"""

from .generate import generate_house_spec, object_name
from .spec import FurnitureSpec, HouseSpec, ObjectSpec, OpeningSpec, RoomSpec

__all__ = [
    "FurnitureSpec",
    "HouseSimulator",
    "HouseSpec",
    "ObjectSpec",
    "OpeningSpec",
    "RoomSpec",
    "generate_house_spec",
    "object_name",
]


def __getattr__(name: str):
    # HouseSimulator imports pyglet/OpenGL: load it only when asked for
    if name == "HouseSimulator":
        from .simulator import HouseSimulator

        return HouseSimulator
    raise AttributeError(name)
