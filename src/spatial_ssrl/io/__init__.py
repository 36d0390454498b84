"""Safe readers for source images and depth maps; every failure is a `SourceError` naming the file."""

from spatial_ssrl.io.depth import DepthError, load_depth
from spatial_ssrl.io.images import ImageTooLarge, UnreadableImage, apply_orientation, load_rgb
from spatial_ssrl.io.source import SizeMismatch, load_source
from spatial_ssrl.sample import SourceError

__all__ = [
    "DepthError",
    "ImageTooLarge",
    "SizeMismatch",
    "SourceError",
    "UnreadableImage",
    "apply_orientation",
    "load_depth",
    "load_rgb",
    "load_source",
]
