"""The five built-in pretext tasks, one file each. Importing this package registers them with
`register_task`, the same call a user's own task makes. Files starting with `_` are helpers the task
files share (pixels, rendering, layout, depth regions, cold-start wording)."""

from spatial_ssrl.tasks import crop, depth_order, flip, position, shuffle

BUILTIN_TASKS = ("shuffle", "flip", "crop", "depth_order", "position")
"""The built-in task names, in the order the paper lists them."""

__all__ = ["BUILTIN_TASKS", "crop", "depth_order", "flip", "position", "shuffle"]
