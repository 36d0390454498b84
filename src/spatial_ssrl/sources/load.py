"""Build a `Source` from files: RGB + optional depth, with orientation, size policy and downscaling."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from spatial_ssrl.engine.sample import Source, SourceError
from spatial_ssrl.sources.depth import load_depth
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS, apply_orientation, load_rgb

__all__ = ["SizeMismatch", "load_source", "resize_nearest"]

# Relative tolerance on width/height ratios for the "nearest" depth resize policy.
_ASPECT_TOL = 0.01


class SizeMismatch(SourceError):
    """The depth map does not have the image's size (and the resize policy does not allow fixing it)."""


def resize_nearest(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of the first two axes, sampling at pixel centres.

    Centre sampling is the same pixel-grid convention as Pillow's resize, so a depth map resized here
    stays aligned with an RGB image resized by Pillow. Values are copied, never averaged: a depth
    edge must not produce a depth that exists on neither side of it.
    """
    h, w = a.shape[:2]
    if (h, w) == (height, width):
        return a.copy()
    rows = np.minimum(((np.arange(height) + 0.5) * (h / height)).astype(np.intp), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * (w / width)).astype(np.intp), w - 1)
    return np.ascontiguousarray(a[rows[:, None], cols[None, :]])


def _wxh(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}x{shape[0]}"


def load_source(
    rgb_path: str | os.PathLike[str],
    depth_path: str | os.PathLike[str] | None = None,
    *,
    mask_path: str | os.PathLike[str] | None = None,
    depth_scale: float | None = None,
    depth_key: str | None = None,
    source_id: str | None = None,
    focal_px: float | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
    depth_resize: str = "error",
) -> Source:
    """Load an RGB image (and optionally a depth map + mask) into a `Source`.

    - id: `source_id`, else `str(rgb_path)` as given (unique per file, unlike the stem).
    - EXIF orientation: the RGB is returned in display orientation. The depth map and mask are
      assumed to be aligned with the STORED (raw) pixel grid of the RGB file, as written by the camera
      / dataset tools, so the same orientation transform is applied to them.
    - Size policy (compared after orientation): `depth_resize="error"` (default) raises SizeMismatch
      when depth and image sizes differ; `depth_resize="nearest"` resizes depth and mask by nearest
      neighbour to the image size, but only when their width/height ratios agree within 1%
      (otherwise SizeMismatch: a different aspect means a crop, which resizing cannot align).
    - `max_side`: if the long side exceeds it, the RGB is downscaled with Pillow's antialiased
      LANCZOS filter and depth + mask by nearest neighbour (depths are never averaged across edges);
      `focal_px` is multiplied by the horizontal scale factor. Pixel coordinates in samples then
      refer to the downscaled image.
    - `focal_px` is taken as the horizontal focal length of the output image; with square pixels it
      is unchanged by a 90-degree EXIF rotation.
    Raises a SourceError subclass (UnreadableImage, ImageTooLarge, DepthError, SizeMismatch).
    """
    if depth_resize not in ("error", "nearest"):
        raise ValueError(f"depth_resize must be 'error' or 'nearest', got {depth_resize!r}")
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    sid = source_id if source_id is not None else str(rgb_path)
    if focal_px is not None and not (math.isfinite(focal_px) and focal_px > 0):
        raise SourceError(f"{sid}: focal_px must be a positive finite number, got {focal_px!r}")
    if depth_path is None and mask_path is not None:
        raise SourceError(f"{sid}: a mask was given without a depth map")

    rgb, orientation = load_rgb(rgb_path, max_pixels=max_pixels)
    h, w = rgb.shape[:2]
    depth = valid = None
    if depth_path is not None:
        depth, valid = load_depth(
            depth_path, mask_path=mask_path, scale=depth_scale, key=depth_key, max_pixels=max_pixels
        )
        depth = apply_orientation(depth, orientation)
        valid = apply_orientation(valid, orientation)
        if depth.shape != (h, w):
            note = f" (after EXIF orientation {orientation} was applied to it)" if orientation != 1 else ""
            detail = f"depth map is {_wxh(depth.shape)} but the image is {w}x{h} (WxH){note}"
            if depth_resize == "error":
                raise SizeMismatch(f"{sid}: {detail}; pass depth_resize='nearest' to resize it")
            ratio = (depth.shape[1] / depth.shape[0]) / (w / h)
            if abs(ratio - 1.0) > _ASPECT_TOL:
                raise SizeMismatch(f"{sid}: {detail}; aspect ratios differ by more than 1%, not resizing")
            depth = resize_nearest(depth, h, w)
            valid = resize_nearest(valid, h, w)

    if max_side is not None and max(h, w) > max_side:
        s = max_side / max(h, w)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        rgb = np.asarray(
            Image.fromarray(rgb).resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=None), dtype=np.uint8
        )
        if depth is not None:
            depth = resize_nearest(depth, nh, nw)
            valid = resize_nearest(valid, nh, nw)
        if focal_px is not None:
            focal_px = focal_px * (nw / w)

    return Source(id=sid, rgb=rgb, depth=depth, valid=valid, focal_px=focal_px)
