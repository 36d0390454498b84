"""The five built-in pretext tasks. Each module registers itself with `register_task`, the same
public decorator a user's own task uses."""

from spatial_ssrl.tasks import crop, depth_order, flip, position, shuffle  # noqa: F401
from spatial_ssrl.tasks.common import grid_boxes, letters

__all__ = ["grid_boxes", "letters"]
