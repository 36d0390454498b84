"""The built-in pretext tasks, one file each: the paper's five image tasks and two video tasks. Importing
this package registers them with `register_task`, the same call a user's own task makes. Files starting
with `_` are helpers the task files share (pixels, rendering, layout, depth regions, cold-start wording)."""

from spatial_ssrl.tasks import clip_order, crop, depth_order, ego_motion, flip, position, shuffle

BUILTIN_TASKS = ("shuffle", "flip", "crop", "depth_order", "position")
"""The built-in image task names, in the order the paper lists them."""
VIDEO_TASKS = ("clip_order", "ego_motion")
"""The built-in video task names (beyond the paper: they read `FrameSequence` sources)."""

__all__ = [
    "BUILTIN_TASKS",
    "VIDEO_TASKS",
    "clip_order",
    "crop",
    "depth_order",
    "ego_motion",
    "flip",
    "position",
    "shuffle",
]
