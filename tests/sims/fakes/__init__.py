"""Protocol-faithful stand-ins for real simulators, used by the backend tests.

* :mod:`.world`: a small scripted two-room scene (axis-aligned boxes) with a ray-casting
  renderer (RGB, instance colours, depth) and THOR-like rules (agent capsule collisions, pick
  up within visibility distance, put on receptacles, doors that open), in THOR's native frame
  (left-handed, ``y`` up, metres, rotation ``y`` clockwise from ``+z``, horizon positive down).
* :mod:`.thor_player`: a program that speaks ai2thor's FIFO protocol like the Unity player does,
  launched by the real ``ai2thor.controller.Controller`` as its ``local_executable_path``.
* :mod:`.unrealcv_server`: a TCP server speaking UnrealCV's framing and commands over the same
  world, converted to Unreal's frame (centimetres, ``Z`` up, ``[pitch, yaw, roll]``).
"""
