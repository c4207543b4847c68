"""A fake UnrealCV server (test support): UnrealCV's TCP framing and command set over the scene
of :mod:`.world`, converted to Unreal's frame.

Framing, as in the UnrealCV plugin and ``unrealcv.SocketMessage``: ``uint32 magic 0x9E2B83C1``,
``uint32 payload length`` (native byte order), payload. On accept the server sends
``"connected to <project>"``; each request payload is ``b"<id>:<command>"`` and each reply
``b"<id>:<reply>"``. Frame (Unreal): centimetres, left-handed, ``Z`` up; rotations
``[pitch, yaw, roll]`` with yaw clockwise from ``+X``. The world's THOR frame maps as
``X = 100 z``, ``Y = 100 x``, ``Z = 100 y`` and ``yaw = rotation``, ``pitch = -horizon``.

Commands: ``vget /unrealcv/status|version|commands``, ``vget|vset /camera/<id>/location``,
``.../rotation``, ``vset /camera/<id>/moveto`` (sweeps, stops before a collision),
``vget /camera/<id>/fov``, ``vset /camera/<id>/size W H``, ``vget /camera/<id>/lit png``,
``.../object_mask png``, ``.../depth npy`` (centimetres), ``vget /objects``,
``vget /object/<name>/color|location|rotation|bounds``, ``vset /object/<name>/location|rotation``,
``vset /object/<name>/hide|show``. Anything else replies ``error ...`` like the plugin.
``fault`` (``"hang"`` or ``"die"``) makes the next request go unanswered or closes the socket.
"""

from __future__ import annotations

import io
import math
import socket
import struct
import threading

import numpy as np
from PIL import Image

from .world import BOUNDS, CAMERA_OFFSET, WALL_HEIGHT, Box, World

MAGIC = 0x9E2B83C1
COMMANDS = """vget /unrealcv/status
vget /unrealcv/version
vget /unrealcv/commands
vget /camera/[id]/location
vset /camera/[id]/location [x] [y] [z]
vget /camera/[id]/rotation
vset /camera/[id]/rotation [pitch] [yaw] [roll]
vset /camera/[id]/moveto [x] [y] [z]
vget /camera/[id]/fov
vset /camera/[id]/size [width] [height]
vget /camera/[id]/[viewmode] [format]
vget /objects
vget /object/[obj]/color
vget /object/[obj]/location
vget /object/[obj]/rotation
vget /object/[obj]/bounds
vset /object/[obj]/location [x] [y] [z]
vset /object/[obj]/rotation [pitch] [yaw] [roll]
vset /object/[obj]/hide
vset /object/[obj]/show"""


def _recv(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def send_frame(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack("I", MAGIC) + struct.pack("I", len(payload)) + payload)


def recv_frame(sock: socket.socket) -> bytes | None:
    head = _recv(sock, 8)
    if head is None:
        return None
    magic, length = struct.unpack("II", head)
    assert magic == MAGIC, hex(magic)
    return _recv(sock, length)


def _fmt(*vals: float) -> str:
    return " ".join(f"{v:.3f}" for v in vals)


def _png(img: np.ndarray) -> bytes:
    rgba = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    return buf.getvalue()


class FakeUnrealCV:
    """One fake server on ``127.0.0.1:port`` serving one client at a time in a thread."""

    def __init__(self, width: int = 128, height: int = 96, minimal: bool = False):
        self.world = World(width, height)
        self.world.visibility_distance = 1e9
        self.rotations = {b.short_name: 0.0 for b in self.world.by_id.values()}
        x0, z0, x1, z1 = BOUNDS
        self.planes = {"Floor": Box("Floor", (x0, -0.01, z0), (x1, 0.0, z1), (0, 0, 0), (1, 2, 3)),
                       "Ceiling": Box("Ceiling", (x0, WALL_HEIGHT, z0), (x1, WALL_HEIGHT + 0.01, z1), (0, 0, 0), (4, 5, 6))}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.log: list[str] = []
        #: an older server: no bounds, object rotations, fov, size or depth (replies ``error``)
        self.minimal = minimal
        self.fault: str | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def close(self) -> None:
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass

    # -- names --------------------------------------------------------------------------------
    def _objects(self) -> dict[str, object]:
        out = {b.short_name: b for b in self.world.by_id.values()}
        for b in self.world.boxes:
            if not b.object_type:
                out[b.name] = b
        out.update(self.planes)
        return out

    # -- frames -------------------------------------------------------------------------------
    def camera_location(self) -> tuple[float, float, float]:
        c = self.world.camera
        return (c[2] * 100, c[0] * 100, c[1] * 100)

    def set_camera_location(self, X: float, Y: float, Z: float) -> None:
        self.world.pos = np.array([Y / 100, Z / 100 - CAMERA_OFFSET, X / 100])

    def _box_unreal(self, b) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.world.extent(b) if b.object_type else (np.array(b.lo), np.array(b.hi))
        return np.array([lo[2], lo[0], lo[1]]) * 100, np.array([hi[2], hi[0], hi[1]]) * 100

    # -- commands -----------------------------------------------------------------------------
    def handle(self, cmd: str) -> bytes | str:
        w = self.world
        if self.minimal and any(k in cmd for k in ("/bounds", "/fov", "/size", "depth", "/unrealcv/commands")) or (
                self.minimal and cmd.startswith("vget /object/") and cmd.endswith("/rotation")):
            return f"error Can not find a handler for this request: {cmd}"
        parts = cmd.split()
        verb, path, args = parts[0], parts[1] if len(parts) > 1 else "", parts[2:]
        seg = path.strip("/").split("/")
        if path == "/unrealcv/status":
            return f"Is Listening\nClient Connected\n{self.port}\nConfiguration\nWidth: {w.width}\nHeight: {w.height}"
        if path == "/unrealcv/version":
            return "v1.1.0"
        if path == "/unrealcv/commands":
            return COMMANDS
        if path == "/objects" and verb == "vget":
            return " ".join(sorted(self._objects()))
        if seg[0] == "camera" and len(seg) >= 3:
            what = seg[2]
            if what == "location":
                if verb == "vget":
                    return _fmt(*self.camera_location())
                self.set_camera_location(*map(float, args))
                return "ok"
            if what == "rotation":
                if verb == "vget":
                    return _fmt(-w.horizon, w.rotation, 0.0)
                p, y, _ = map(float, args)
                w.horizon, w.rotation = -p, y % 360.0
                return "ok"
            if what == "moveto" and verb == "vset":
                return self.moveto(*map(float, args))
            if what == "fov":  # Unreal's field of view is horizontal (the world's is vertical)
                t = math.tan(math.radians(w.fov) / 2) * w.width / w.height
                return _fmt(math.degrees(2 * math.atan(t)))
            if what == "size" and verb == "vset":
                w.width, w.height = int(args[0]), int(args[1])
                return "ok"
            if what in ("lit", "object_mask", "depth"):
                rgb, ids, depth = w.render()
                if what == "lit":
                    return _png(rgb)
                if what == "object_mask":
                    return _png(ids)
                buf = io.BytesIO()
                np.save(buf, (depth * 100).astype(np.float32))
                return buf.getvalue()
        if seg[0] == "object" and len(seg) == 3:
            b = self._objects().get(seg[1])
            if b is None:
                return f"error Can not find object {seg[1]}"
            what = seg[2]
            lo, hi = self._box_unreal(b)
            if what == "color":
                r, g, bb = b.seg
                return f"(R={r},G={g},B={bb},A=255)"
            if what == "bounds":
                return _fmt(*lo, *hi)
            if what == "location" and verb == "vget":
                return _fmt((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2])
            if what == "location" and verb == "vset":
                X, Y, Z = map(float, args)
                w._place(b, Y / 100, Z / 100, X / 100)
                b.parent = None
                return "ok"
            if what == "rotation":
                if verb == "vget":
                    return _fmt(0.0, self.rotations.get(seg[1], 0.0), 0.0)
                yaw = float(args[1])
                self.rotations[seg[1]] = yaw
                if b.openable:
                    b.is_open = abs((yaw + 180) % 360 - 180) > 45
                return "ok"
            if what in ("hide", "show"):
                b.hidden = what == "hide"
                return "ok"
        return f"error Can not find a handler for this request: {cmd}"

    def moveto(self, X: float, Y: float, Z: float) -> str:
        w = self.world
        x0, z0 = w.pos[0], w.pos[2]
        x1, z1 = Y / 100, X / 100
        n = max(1, int(math.hypot(x1 - x0, z1 - z0) / 0.05))
        last = (x0, z0)
        for k in range(1, n + 1):
            x, z = x0 + (x1 - x0) * k / n, z0 + (z1 - z0) * k / n
            if w.blocker(x, z):
                break
            last = (x, z)
        if last == (x1, z1) or math.isclose(last[0], x1) and math.isclose(last[1], z1):
            self.set_camera_location(X, Y, Z)
        else:
            w.pos = np.array([last[0], Z / 100 - CAMERA_OFFSET, last[1]])
        return "ok"

    # -- serving ------------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            send_frame(conn, b"connected to FakeUnrealProject")
            with conn:
                while True:
                    msg = recv_frame(conn)
                    if msg is None:
                        break
                    mid, _, body = msg.partition(b":")
                    cmd = body.decode()
                    self.log.append(cmd)
                    if self.fault == "die":
                        self.fault = None
                        break
                    if self.fault == "hang":
                        self.fault = None
                        self._stop.wait(3600)
                        return
                    reply = self.handle(cmd)
                    send_frame(conn, mid + b":" + (reply if isinstance(reply, bytes) else reply.encode()))
