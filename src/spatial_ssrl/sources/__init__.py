"""Where sources come from and how they are read.

- `discover`: picklable `SourceRef`s for photo folders, RGB-D folders paired by name (`rgbd:`), DIODE /
  MegaDepth trees, CSV / JSONL manifests,
  the bundled photos and synthetic scenes (no pixel read until a worker loads one); skipped inputs
  are warned about and counted in an optional `DiscoveryReport`.
- `synthetic`: procedural RGB-D scenes with exact depth (the oracle the depth tasks are tested against).
- `images`, `depth`, `load`, `intrinsics`: safe readers; every failure is a `SourceError` naming the file.
"""

from spatial_ssrl.engine.sample import SourceError
from spatial_ssrl.sources.depth import DepthError, DepthTooLarge, load_depth
from spatial_ssrl.sources.discover import (
    DiscoveryReport,
    NoSourcesMatched,
    SourceRef,
    bundled_photos,
    discover,
    rgbd_tree,
    synthetic,
)
from spatial_ssrl.sources.images import ImageTooLarge, UnreadableImage, apply_orientation, load_rgb
from spatial_ssrl.sources.intrinsics import ImplausibleFocal
from spatial_ssrl.sources.load import AmbiguousOrientation, SizeMismatch, load_source

__all__ = [
    "AmbiguousOrientation",
    "DepthError",
    "DepthTooLarge",
    "DiscoveryReport",
    "ImageTooLarge",
    "ImplausibleFocal",
    "NoSourcesMatched",
    "SizeMismatch",
    "SourceError",
    "SourceRef",
    "UnreadableImage",
    "apply_orientation",
    "bundled_photos",
    "discover",
    "rgbd_tree",
    "load_depth",
    "load_rgb",
    "load_source",
    "synthetic",
]
