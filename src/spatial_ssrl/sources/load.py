"""Build a `Source` from files: RGB + optional depth, with orientation, size policy and downscaling."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from spatial_ssrl.engine.sample import Source, SourceError
from spatial_ssrl.sources.depth import load_depth
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS, apply_orientation, load_rgb
from spatial_ssrl.sources.intrinsics import check_focal_number, check_focal_px

__all__ = [
    "DEPTH_ORIENTATIONS",
    "DEPTH_RESIZE_POLICIES",
    "AmbiguousOrientation",
    "SizeMismatch",
    "load_source",
    "resize_nearest",
]

# Relative tolerance on width/height ratios for the "nearest" depth resize policy.
_ASPECT_TOL = 0.01

# What to do when depth and image sizes differ: refuse, or resize depth by nearest neighbour.
DEPTH_RESIZE_POLICIES = ("error", "nearest")
# Which pixel grid of an EXIF-oriented photo the depth map was made on: the file's stored grid (camera /
# dataset tools), or the displayed, upright image (e.g. a depth estimator run on the viewed photo).
DEPTH_ORIENTATIONS = ("stored", "display")

_ORIENTATION_NAMES = {
    2: "mirrored horizontally",
    3: "rotated 180 degrees",
    4: "mirrored vertically",
    5: "transposed",
    6: "rotated 90 degrees clockwise",
    7: "transversed",
    8: "rotated 90 degrees counter-clockwise",
}


class SizeMismatch(SourceError):
    """The depth map does not have the image's size (and the resize policy does not allow fixing it)."""


class AmbiguousOrientation(SourceError):
    """An EXIF-rotated or mirrored photo whose depth map fits both its stored and its displayed pixel grid,
    without a stated `depth_orientation`: aligning it either way could be silently wrong."""


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


def _fits(depth_hw: tuple[int, int], grid_hw: tuple[int, int], depth_resize: str) -> bool:
    """Can a depth map of `depth_hw` be aligned with `grid_hw` under the resize policy?"""
    if depth_hw == grid_hw:
        return True
    ratio = (depth_hw[1] / depth_hw[0]) / (grid_hw[1] / grid_hw[0])
    return depth_resize == "nearest" and abs(ratio - 1.0) <= _ASPECT_TOL


def _depth_grid(
    sid: str, depth_hw: tuple[int, int], orientation: int, display_hw: tuple[int, int], stated: str | None, resize: str
) -> str:
    """Which grid ("stored" / "display") the depth map is aligned with; raises AmbiguousOrientation."""
    if orientation == 1 or stated is not None:
        return stated or "stored"  # without a transform both grids are the same
    h, w = display_hw
    stored_hw = (h, w) if orientation <= 4 else (w, h)
    fits = [g for g, hw in (("stored", stored_hw), ("display", display_hw)) if _fits(depth_hw, hw, resize)]
    if len(fits) == 2:
        raise AmbiguousOrientation(
            f"{sid}: the photo has EXIF orientation {orientation} ({_ORIENTATION_NAMES[orientation]}) and its "
            f"{_wxh(depth_hw)} depth map fits both the stored {_wxh(stored_hw)} and the displayed {w}x{h} "
            "pixel grid; state which one the depth was made on: depth_orientation='stored' or 'display' "
            "(manifest column depth_orientation, ssrl generate --depth-orientation)"
        )
    return fits[0] if fits else "stored"  # no fit: SizeMismatch, reported against the documented default


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
    depth_orientation: str | None = None,
) -> Source:
    """Load an RGB image (and optionally a depth map + mask) into a `Source`.

    - id: `source_id`, else `str(rgb_path)` as given (unique per file, unlike the stem).
    - EXIF orientation: the RGB is returned in display orientation. `depth_orientation` says which
      pixel grid the depth map and mask were made on: "stored" (the raw grid of the RGB file, as
      written by cameras and dataset tools; the EXIF transform is then applied to them too) or
      "display" (the upright image as viewed; used as is). When it is None (not stated) the grid is
      inferred from the depth map's shape: with orientation 1 both are the same; if the depth fits
      only one of the two grids, that one is used; if it fits both (a square photo, or orientations
      2-4, which keep the size) AmbiguousOrientation is raised, since a guess could be silently wrong.
    - Size policy (compared after orientation): `depth_resize="error"` (default) raises SizeMismatch
      when depth and image sizes differ; `depth_resize="nearest"` resizes depth and mask by nearest
      neighbour to the image size, but only when their width/height ratios agree within 1%
      (otherwise SizeMismatch: a different aspect means a crop, which resizing cannot align).
    - `max_side`: if the long side exceeds it, the RGB is downscaled with Pillow's antialiased
      LANCZOS filter and depth + mask by nearest neighbour (depths are never averaged across edges);
      `focal_px` is multiplied by the horizontal scale factor. Pixel coordinates in samples then
      refer to the downscaled image.
    - `focal_px` is taken as the horizontal focal length of the displayed image; with square pixels it
      is unchanged by a 90-degree EXIF rotation. It must imply a horizontal field of view of
      MIN_HFOV_DEG..MAX_HFOV_DEG (10-170) degrees over the displayed width (ImplausibleFocal otherwise).
    Raises a SourceError subclass (UnreadableImage, ImageTooLarge, DepthError, SizeMismatch,
    AmbiguousOrientation, ImplausibleFocal).
    """
    if depth_resize not in DEPTH_RESIZE_POLICIES:
        raise ValueError(f"depth_resize must be one of {DEPTH_RESIZE_POLICIES}, got {depth_resize!r}")
    if depth_orientation is not None and depth_orientation not in DEPTH_ORIENTATIONS:
        raise ValueError(f"depth_orientation must be one of {DEPTH_ORIENTATIONS} or None, got {depth_orientation!r}")
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    sid = source_id if source_id is not None else str(rgb_path)
    if focal_px is not None:
        check_focal_number(focal_px, sid)  # type, sign and finiteness before any file is read
    if depth_path is None and mask_path is not None:
        raise SourceError(f"{sid}: a mask was given without a depth map")

    rgb, orientation = load_rgb(rgb_path, max_pixels=max_pixels)
    h, w = rgb.shape[:2]
    if focal_px is not None:
        focal_px = check_focal_px(focal_px, w, sid)
    depth = valid = None
    if depth_path is not None:
        depth, valid = load_depth(
            depth_path, mask_path=mask_path, scale=depth_scale, key=depth_key, max_pixels=max_pixels
        )
        grid = _depth_grid(sid, depth.shape, orientation, (h, w), depth_orientation, depth_resize)
        if grid == "stored":
            depth = apply_orientation(depth, orientation)
            valid = apply_orientation(valid, orientation)
        if depth.shape != (h, w):
            note = ""
            if orientation != 1:
                applied = "applied to it" if grid == "stored" else "not applied to it (depth_orientation='display')"
                note = f" (EXIF orientation {orientation} {applied})"
            detail = f"depth map is {_wxh(depth.shape)} but the image is {w}x{h} (WxH){note}"
            if depth_resize == "error":
                raise SizeMismatch(
                    f"{sid}: {detail}; to resize it pass depth_resize='nearest' "
                    "(manifest column depth_resize, ssrl generate --depth-resize nearest)"
                )
            if not _fits(depth.shape, (h, w), depth_resize):
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
