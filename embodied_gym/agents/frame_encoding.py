"""Frames as data URLs for API models: :func:`encode_image` (one H x W x 3 uint8 array -> a
base64 JPEG/PNG data URL plus a log-safe placeholder) and :class:`ImageEncoder`, its memo by
array identity, which environment worker processes can prime with encodings made next to the
simulator (:mod:`embodied_gym.eval.workers`)."""

from __future__ import annotations

import base64
import hashlib
import io
import weakref
from collections import OrderedDict

import numpy as np

from ..envs.images import to_pil


def encode_image(image: np.ndarray, max_side: int, fmt: str = "jpeg", quality: int = 90) -> tuple[str, str]:
    """One H x W x 3 uint8 array -> ``(data_url, placeholder)`` (resized to ``max_side``, JPEG or
    PNG); the placeholder names size and content hash for logs. A pure function of its arguments."""
    pil = to_pil(image, max_side)
    buf = io.BytesIO()
    if fmt == "png":
        pil.save(buf, format="PNG")
        mime = "image/png"
    else:
        pil.save(buf, format="JPEG", quality=quality)
        mime = "image/jpeg"
    data = buf.getvalue()
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return url, f"<image {pil.size[0]}x{pil.size[1]} sha1:{hashlib.sha1(data).hexdigest()[:16]}>"


class ImageEncoder:
    """H x W x 3 uint8 arrays -> data URLs (resized, JPEG/PNG) with :func:`encode_image`.

    Encodings are memoised by array identity (the runner passes the same array objects for the
    history frames of later steps, and never mutates observations), so each frame is compressed once.
    :meth:`prime` stores an encoding made elsewhere: environment worker processes encode each new
    frame with :attr:`spec` next to the simulator (``encode_image(frame, *spec)``), so the event
    loop's process only looks it up (same function, same arguments: the same bytes)."""

    def __init__(self, max_side: int, fmt: str = "jpeg", quality: int = 90, memo: int = 256) -> None:
        self.max_side, self.fmt, self.quality = max_side, fmt, quality
        self._memo: OrderedDict[int, tuple[weakref.ref, tuple[str, str]]] = OrderedDict()
        self._memo_size = memo

    @property
    def spec(self) -> tuple[int, str, int]:
        """``(max_side, fmt, quality)``: the arguments of :func:`encode_image` after the image."""
        return self.max_side, self.fmt, self.quality

    def encode(self, image: np.ndarray) -> tuple[str, str]:
        """``(data_url, placeholder)``; the placeholder names size and content hash for logs."""
        hit = self._memo.get(id(image))
        if hit is not None and hit[0]() is image:
            self._memo.move_to_end(id(image))
            return hit[1]
        result = encode_image(image, *self.spec)
        self.prime(image, result)
        return result

    def prime(self, image: np.ndarray, encoded: tuple[str, str]) -> None:
        """Remember ``encoded`` (``encode_image(image, *self.spec)``, computed elsewhere) for ``image``."""
        try:
            self._memo[id(image)] = (weakref.ref(image), encoded)
        except TypeError:  # not weak-referenceable: no memo
            return
        self._memo.move_to_end(id(image))
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
