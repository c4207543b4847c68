"""A fake AI2-THOR Unity player speaking ai2thor's FIFO protocol (test support).

The real ``ai2thor.controller.Controller`` launches this program as its ``local_executable_path``
(through a small launcher script, :func:`launcher`), exactly as it launches Unity:
``EXE -screen-fullscreen 0 -screen-quality N -screen-width W -screen-height H`` with the FIFO
paths in ``AI2THOR_FIFO_SERVER_PIPE_PATH`` (we write) and ``AI2THOR_FIFO_CLIENT_PIPE_PATH`` (we
read). Wire format, as in ``ai2thor/fifo_server.py``: fields ``struct.pack("!BI", type, len) +
body``; a message ends with the ``END_OF_MESSAGE`` (255) header. Actions arrive as an ``ACTION``
(2) field holding JSON; replies carry ``RGB_IMAGE`` (4), ``DEPTH_IMAGE`` (5, float32 metres),
``IDS_IMAGE`` (9, RGBA32 instance colours), rows bottom-up like Unity's ``ReadPixels``, and a
``METADATA`` (1) field: msgpack of ``{"agents": [agent metadata], "sequenceId", "activeAgentId",
"thirdPartyCameras"}``. Unknown actions fail with ``errorCode: "InvalidAction"`` (the Controller
turns that into ``ValueError``).

Every action received is appended as a JSON line to the file named by ``FAKE_THOR_LOG`` (when
set), so tests can check what went over the wire. Faults for the infrastructure tests: when the file named by ``FAKE_THOR_FAULT_FILE`` exists at an
action, it is read and deleted; ``hang`` makes the player stop answering, ``die`` makes it exit;
``hang N`` / ``die N`` let N more actions through first. ``FAKE_THOR_MINIMAL=1`` plays a
stripped-down player: no depth, no ``cameraPosition``, objects without boxes, names or types,
and ``GetReachablePositions`` / ``TeleportFull`` / ``SetObjectPoses`` unknown.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import sys
import time
from pathlib import Path

import msgpack
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from world import World  # noqa: E402

HEADER = "!BI"
METADATA, ACTION, RGB, DEPTH, IDS, EOM = 1, 2, 4, 5, 9, 255
MINIMAL = bool(os.environ.get("FAKE_THOR_MINIMAL"))
SCENES = ["FloorPlan1_physics", "FloorPlan2_physics", "FloorPlan201_physics", "Procedural"]


def launcher(directory: str | os.PathLike) -> str:
    """Write an executable launcher for this player (bakes in this Python) and return its path."""
    path = Path(directory) / "fake-thor-player"
    path.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{Path(__file__).resolve()}' \"$@\"\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def _vec(v) -> dict:
    return {"x": float(v[0]), "y": float(v[1]), "z": float(v[2])}


class Player:
    def __init__(self, width: int, height: int):
        self.world = World(width, height)
        self.scene = "FloorPlan1_physics"
        self.seq = 0
        self.render_depth = False
        self.render_ids = False
        self.frame = self.world.render()

    # -- protocol ------------------------------------------------------------------------------
    def message(self, action: str, ok: bool = True, error: str = "", code: str = "", ret=None) -> bytes:
        rgb, ids, depth = self.frame
        agent = self.agent_metadata(action, ok, error, code, ret)
        meta = {"agents": [agent], "sequenceId": self.seq, "activeAgentId": 0, "thirdPartyCameras": []}
        out = []

        def field(kind: int, body: bytes) -> None:
            out.append(struct.pack(HEADER, kind, len(body)) + body)

        field(RGB, np.ascontiguousarray(rgb[::-1]).tobytes())
        if self.render_depth:
            field(DEPTH, np.ascontiguousarray(depth[::-1]).astype(np.float32).tobytes())
        if self.render_ids:
            rgba = np.concatenate([ids, np.full(ids.shape[:2] + (1,), 255, np.uint8)], axis=2)
            field(IDS, np.ascontiguousarray(rgba[::-1]).tobytes())
        field(METADATA, msgpack.dumps(meta))
        out.append(struct.pack(HEADER, EOM, 0))
        return b"".join(out)

    def agent_metadata(self, action, ok, error, code, ret) -> dict:
        w = self.world
        _, ids, _ = self.frame
        visible = w.visible_ids(ids)
        objects = []
        for b in w.by_id.values():
            lo, hi = w.extent(b)
            c = (lo + hi) / 2
            corners = [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
            children = [o.name for o in w.by_id.values() if o.parent == b.name]
            objects.append({
                "objectId": b.name, "objectType": b.object_type, "name": b.short_name,
                "position": _vec((c[0], lo[1], c[2])), "rotation": _vec((0, 0, 0)),
                "visible": b.name in visible, "isInteractable": b.name in visible,
                "distance": float(np.linalg.norm(c - w.camera)),
                "pickupable": b.pickupable, "receptacle": b.receptacle, "moveable": False,
                "openable": b.openable, "isOpen": b.is_open, "openness": float(b.is_open),
                "isPickedUp": b.name == w.held,
                "parentReceptacles": [b.parent] if b.parent else None,
                "receptacleObjectIds": children if b.receptacle else None,
                "axisAlignedBoundingBox": {"cornerPoints": corners, "center": _vec(c), "size": _vec(hi - lo)},
                "objectOrientedBoundingBox": None, "salientMaterials": [b.material] if b.material else None,
            })
        cam = w.camera
        if MINIMAL:  # an older or stripped-down player: no camera pose, boxes, names or types
            for o in objects:
                for key in ("axisAlignedBoundingBox", "name", "objectType", "salientMaterials", "rotation"):
                    o.pop(key, None)
        return {
            "screenWidth": w.width, "screenHeight": w.height, "sceneName": self.scene,
            "lastAction": action, "lastActionSuccess": ok, "errorMessage": error, "errorCode": code,
            "actionReturn": ret, "objects": objects, "fov": w.fov, "depthFormat": "Meters",
            "agent": {"name": "agent", "position": _vec(w.pos), "rotation": _vec((0, w.rotation, 0)),
                      "cameraHorizon": w.horizon, "isStanding": True, "inHighFrictionArea": False},
            **({} if MINIMAL else {"cameraPosition": _vec(cam)}), "heldObjectPose": None,
            "colors": [{"name": b.name if b.object_type else b.name.rstrip("0123456789"), "color": list(b.seg)}
                       for b in w.boxes] + [{"name": "Floor", "color": [1, 2, 3]}, {"name": "Ceiling", "color": [4, 5, 6]}],
            "thirdPartyCameras": [], "sceneBounds": {"center": _vec((0, 1.25, 0)), "size": _vec((5.2, 2.5, 4.2))},
            "collided": False, "collidedObjects": [],
        }

    # -- actions -------------------------------------------------------------------------------
    def act(self, a: dict) -> tuple[bool, str, str, object]:
        w = self.world
        name = a.get("action")
        if MINIMAL and name in ("GetReachablePositions", "TeleportFull", "SetObjectPoses"):
            return False, f"Invalid action: {name}", "InvalidAction", None
        visible = w.visible_ids(self.frame[1])
        force = bool(a.get("forceAction", False))
        if name == "GetScenesInBuild":
            return True, "", "", list(SCENES)
        if name == "Reset":
            self.scene = a.get("sceneName", self.scene)
            w.reset()
            return True, "", "", None
        if name == "Initialize":
            w.grid_size = float(a.get("gridSize", 0.25))
            w.fov = float(a.get("fieldOfView", 90.0))
            w.visibility_distance = float(a.get("visibilityDistance", 1.5))
            self.render_depth = bool(a.get("renderDepthImage", False)) and not MINIMAL
            self.render_ids = bool(a.get("renderInstanceSegmentation", False) or a.get("renderObjectImage", False))
            return True, "", "", {"cameraNearPlane": 0.1, "cameraFarPlane": 20.0}
        if name == "ChangeResolution":
            w.width, w.height = int(a["x"]), int(a["y"])
            return True, "", "", None
        if name in ("Pass", "Done"):
            return True, "", "", None
        if name in ("MoveAhead", "MoveBack"):
            m = float(a.get("moveMagnitude", w.grid_size))
            return (*w.move(m if name == "MoveAhead" else -m), "", None)
        if name in ("RotateLeft", "RotateRight"):
            deg = float(a.get("degrees", 90.0))
            w.rotation = (w.rotation + (deg if name == "RotateRight" else -deg)) % 360.0
            return True, "", "", None
        if name in ("LookUp", "LookDown"):
            deg = float(a.get("degrees", 30.0))
            return (*w.look(-deg if name == "LookUp" else deg), "", None)
        if name in ("Teleport", "TeleportFull"):
            rot = a.get("rotation", {"y": w.rotation})
            ok, err = w.teleport(a.get("position", {"x": w.pos[0], "y": w.pos[1], "z": w.pos[2]}),
                                 float(rot["y"]) if isinstance(rot, dict) else float(rot),
                                 float(a.get("horizon", w.horizon)))
            return ok, err, "", None
        if name == "GetReachablePositions":
            return True, "", "", w.reachable()
        if name == "PickupObject":
            return (*w.pickup(a["objectId"], visible, force), "", None)
        if name == "PutObject":
            return (*w.put(a["objectId"], visible, force), "", None)
        if name == "DropHandObject":
            return (*w.drop(), "", None)
        if name in ("OpenObject", "CloseObject"):
            return (*w.set_open(a["objectId"], name == "OpenObject", visible, force), "", None)
        if name == "CreateHouse":  # a ProcTHOR house: the fake builds its own scene whatever the dict says
            house = a.get("house") or {}
            if not isinstance(house, dict) or "rooms" not in house:
                return False, "CreateHouse: 'house' must be a ProcTHOR house dict with rooms", "InvalidArgument", None
            w.reset()
            return True, "", "", None
        if name == "SetObjectPoses":
            return (*w.set_poses(a["objectPoses"]), "", None)
        return False, f"Invalid action: {name}", "InvalidAction", None


def _read_exact(f, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        part = f.read(n - len(buf))
        if not part:
            sys.exit(0)  # the controller closed the pipe
        buf += part
    return buf


def _fault() -> str | None:
    path = os.environ.get("FAKE_THOR_FAULT_FILE")
    if not path or not os.path.exists(path):
        return None
    kind, _, after = Path(path).read_text().strip().partition(" ")
    if after and int(after) > 0:  # "hang N": fault at the (N+1)-th action from now
        Path(path).write_text(f"{kind} {int(after) - 1}")
        return None
    os.unlink(path)
    return kind


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[::2], argv[1::2], strict=False))
    width, height = int(opts.get("-screen-width", 300)), int(opts.get("-screen-height", 300))
    server_path = os.environ["AI2THOR_FIFO_SERVER_PIPE_PATH"]
    client_path = os.environ["AI2THOR_FIFO_CLIENT_PIPE_PATH"]
    player = Player(width, height)
    out = open(server_path, "wb")  # noqa: SIM115 (lives as long as the process)
    out.write(player.message("")); out.flush()  # noqa: E702 (the first event, before any action)
    inp = open(client_path, "rb")  # noqa: SIM115
    while True:
        kind, length = struct.unpack(HEADER, _read_exact(inp, 5))
        body = _read_exact(inp, length)
        eom, _ = struct.unpack(HEADER, _read_exact(inp, 5))
        assert kind == ACTION and eom == EOM, (kind, eom)
        action = json.loads(body)
        if os.environ.get("FAKE_THOR_LOG"):
            with open(os.environ["FAKE_THOR_LOG"], "a") as log:
                log.write(json.dumps(action) + "\n")
        fault = _fault()
        if fault == "hang":
            time.sleep(3600)
        elif fault == "die":
            os._exit(3)
        player.seq = int(action.get("sequenceId", player.seq))
        ok, error, code, ret = player.act(action)
        if action.get("renderImage", True):
            player.frame = player.world.render()
        out.write(player.message(action.get("action", ""), ok, error, code, ret))
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
