"""House: procedural multi-room houses on Farama MiniWorld, rendered headless through EGL."""
