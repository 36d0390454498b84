"""Plausibility of camera intrinsics: a focal length is accepted only if it implies a real field of view.

A focal length in pixels means nothing without the image width: the horizontal field of view is
hfov = 2 * atan(W / (2 * focal_px)). Values like 1e-300 or 1e300 are finite and positive, yet put
every back-projected point at infinity or on the optical axis, so position answers built on them
would be silently wrong. They are refused with the implied field of view in the message.
"""

from __future__ import annotations

import math

from spatial_ssrl.engine.sample import SourceError

__all__ = [
    "MAX_HFOV_DEG",
    "MIN_HFOV_DEG",
    "ImplausibleFocal",
    "check_focal_number",
    "check_focal_px",
    "focal_px_range",
    "hfov_deg",
]

# Narrower than 10 degrees is a long telephoto (> ~250 mm full-frame): never a photo-collection camera,
# and usually a focal length given for another (larger) image size.
MIN_HFOV_DEG = 10.0
# Wider than 170 degrees is a fisheye, which the pinhole model used for position answers cannot describe;
# a focal length given for a smaller (downscaled) image also lands here.
MAX_HFOV_DEG = 170.0


class ImplausibleFocal(SourceError):
    """A focal length that is not a positive finite number, or implies a field of view outside the allowed range."""


def hfov_deg(focal_px: float, width: int) -> float:
    """Horizontal field of view in degrees of a pinhole camera with `focal_px` over `width` pixels."""
    return math.degrees(2.0 * math.atan(width / (2.0 * focal_px)))


def focal_px_range(width: float) -> tuple[float, float]:
    """(smallest, largest) focal length in pixels whose field of view over `width` pixels is allowed."""
    lo = width / (2.0 * math.tan(math.radians(MAX_HFOV_DEG) / 2.0))
    hi = width / (2.0 * math.tan(math.radians(MIN_HFOV_DEG) / 2.0))
    return lo, hi


def check_focal_number(focal_px: object, what: str) -> float:
    """Return `focal_px` as a float if it is a positive finite number, else raise ImplausibleFocal."""
    if isinstance(focal_px, bool) or not isinstance(focal_px, (int, float)):
        raise ImplausibleFocal(f"{what}: focal_px must be a number, got {focal_px!r}")
    f = float(focal_px)
    if not (math.isfinite(f) and f > 0):
        raise ImplausibleFocal(f"{what}: focal_px must be a positive finite number, got {focal_px!r}")
    return f


def check_focal_px(focal_px: object, width: int, what: str) -> float:
    """Return `focal_px` as a float if it is positive, finite and gives an allowed field of view over
    `width` pixels; else raise ImplausibleFocal (one line: `what`, the value, the implied field of view
    and the allowed range)."""
    f = check_focal_number(focal_px, what)
    fov = hfov_deg(f, width)
    if not (MIN_HFOV_DEG <= fov <= MAX_HFOV_DEG):
        lo, hi = focal_px_range(width)
        raise ImplausibleFocal(
            f"{what}: focal_px={focal_px!r} implies a horizontal field of view of {fov:.3g} degrees over "
            f"{width} px; allowed {MIN_HFOV_DEG:g}-{MAX_HFOV_DEG:g} degrees (focal_px {lo:.4g}-{hi:.4g} px "
            "for this width); give the focal length of this image size, or none"
        )
    return f
