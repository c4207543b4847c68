"""The AI2-THOR process of :class:`~.simulator.ThorSimulator` (a mixin): Controller arguments
(checked when the simulator is made), starting and stopping Unity, and one action call that turns
Unity dying or hanging into :class:`~embodied_gym.sims.base.InfrastructureError`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..base import InfrastructureError
from .build import explain_start_failure

#: THOR ``Initialize`` parameters accepted as keywords (others go in ``initialize={...}``)
INITIALIZE_PARAMS = frozenset({
    "agentMode", "visibilityDistance", "visibilityScheme", "gridSize", "snapToGrid", "rotateStepDegrees",
    "renderDepthImage", "renderInstanceSegmentation", "renderSemanticSegmentation", "renderNormalsImage",
    "renderFlowImage", "fieldOfView", "makeAgentsVisible", "agentCount", "fastActionEmit", "autoSimulation",
    "antiAliasing", "cameraNearPlane", "cameraFarPlane", "massThreshold", "useMassThreshold",
})


def check_controller_kwargs(kwargs: Mapping[str, Any], where: str = "", extra: Sequence[str] = ()) -> None:
    """``TypeError`` naming a keyword that is neither a Controller argument nor a known
    ``Initialize`` parameter (a typo would otherwise reach Unity and fail there, or be ignored);
    ``where`` prefixes the message, ``extra`` (the caller's own arguments) is listed first."""
    import inspect

    from ai2thor.controller import Controller

    accepted = {k for k in inspect.signature(Controller.__init__).parameters if k not in ("self", "unity_initialization_parameters")}
    accepted |= INITIALIZE_PARAMS
    bad = sorted(k for k in kwargs if k not in accepted)
    if bad:
        raise TypeError(f"{where}unknown argument {bad[0]!r} for the 'thor' backend; accepted: {''.join(e + ', ' for e in extra)}"
                        f"the backend's own (width, height, "
                        f"move_step, turn_step, look_step, interact_distance, field_of_view, timeout, start_timeout, seed, "
                        f"initialize), ai2thor Controller arguments and Initialize parameters: {', '.join(sorted(accepted))}")


class ThorProcess:
    """Process half of :class:`~.simulator.ThorSimulator` (which sets these attributes and
    provides ``_after_load``)."""

    width: int
    height: int
    move_step: float
    turn_step: float
    field_of_view: float
    interact_distance: float
    timeout: float
    start_timeout: float
    _kwargs: dict[str, Any]
    _controller: Any
    _scene: Any

    # -- process ---------------------------------------------------------------------------------
    def _controller_args(self, scene: Any) -> dict[str, Any]:
        args = dict(self._kwargs)
        platform = args.get("platform")
        if isinstance(platform, str):
            import ai2thor.platform

            if not hasattr(ai2thor.platform, platform):
                raise ValueError(f"platform: unknown AI2-THOR platform {platform!r} (CloudRendering, Linux64, OSXIntel64)")
            args["platform"] = getattr(ai2thor.platform, platform)
        init = {"gridSize": self.move_step, "snapToGrid": False, "rotateStepDegrees": self.turn_step,
                "fieldOfView": self.field_of_view, "visibilityDistance": self.interact_distance,
                "renderDepthImage": True, "renderInstanceSegmentation": True}
        return {**init, **args, "scene": scene, "width": self.width, "height": self.height,
                "server_timeout": self.timeout, "server_start_timeout": self.start_timeout}

    def _start(self, scene: Any) -> None:
        from ai2thor.controller import Controller

        args = self._controller_args(scene)
        try:
            self._controller = Controller(**args)
        except ValueError:
            raise
        except TimeoutError as exc:
            raise InfrastructureError(f"AI2-THOR did not start within {self.start_timeout:g} s: {exc}",
                                      backend="thor") from exc
        except Exception as exc:
            raise RuntimeError(explain_start_failure(exc, self._kwargs.get("platform"), self._kwargs.get("x_display"))) from exc

    def _stop(self) -> None:
        if self._controller is not None:
            try:
                self._controller.stop()
            except Exception:  # noqa: BLE001 (a dead process cannot be stopped twice)
                pass
            self._controller = None

    def _call(self, action: str, **args: Any) -> Any:
        """One THOR action; Unity dying or hanging becomes :class:`InfrastructureError`."""
        try:
            return self._controller.step(action=action, **args)
        except ValueError:
            raise  # THOR refused the action or its arguments: our bug, not infrastructure
        except Exception as exc:
            restarted = False
            self._stop()
            try:
                self._start(self._scene)
                self._after_load()
                restarted = True
            except Exception:  # noqa: BLE001 (reported through the message below)
                self._controller = None
            raise InfrastructureError(
                f"AI2-THOR failed during {action} ({type(exc).__name__}: {str(exc).strip()[:300]}); "
                + ("Unity was restarted and the scene reloaded" if restarted else "restarting Unity failed"),
                backend="thor", restarted=restarted) from exc
