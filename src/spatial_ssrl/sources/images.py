"""Safe RGB image reading: decompression-bomb guard, forced full decode, EXIF orientation, mode policy.

Every way a source photo can be unusable surfaces as a `SourceError` subclass naming the file, so a
dataset build can skip (and count) bad files instead of crashing or silently training on garbage.
"""

from __future__ import annotations

import io
import os
import re
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

from spatial_ssrl.engine.sample import SourceError

__all__ = ["ImageTooLarge", "UnreadableImage", "apply_orientation", "load_rgb", "open_image", "to_rgb_array"]

DEFAULT_MAX_PIXELS = 64_000_000  # larger images are rejected from the header (decompression-bomb guard)

# EPS is decoded by running Ghostscript on the file: never hand untrusted bytes to an interpreter.
_EXCLUDED_FORMATS = frozenset({"EPS"})

# Image.MAX_IMAGE_PIXELS and the warnings filters are process-global; the lock makes the temporary
# change made by `open_image` invisible to other threads that read images through this module.
_PIL_GLOBALS_LOCK = threading.Lock()


class ImageTooLarge(SourceError):
    """The image header declares more pixels than allowed (possible decompression bomb)."""


# Pillow's bomb messages quote its own threshold, which is 2 x MAX_IMAGE_PIXELS for the error; only the
# declared pixel count is taken from them, so our message always states the limit actually in force.
_PILLOW_PIXELS = re.compile(r"Image size \((\d+) pixels\)")


def _too_large(p: Path, err: Exception, max_pixels: int) -> ImageTooLarge:
    m = _PILLOW_PIXELS.search(str(err))
    declared = f"{m[1]} pixels" if m else "its declared size"
    return ImageTooLarge(f"{p}: {declared} exceeds max_pixels={max_pixels} (decompression-bomb guard)")


class UnreadableImage(SourceError):
    """The file is missing, empty, not an image, corrupt or truncated."""


def _allowed_formats() -> list[str]:
    Image.init()  # registers every plugin, so plugins added later (e.g. HEIF) are also accepted
    return [f for f in Image.OPEN if f not in _EXCLUDED_FORMATS]


def open_image(
    path: str | os.PathLike[str] | bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    exif_transpose: bool = False,
    formats: tuple[str, ...] | None = None,
    draft_size: tuple[int, int] | None = None,
) -> tuple[Image.Image, int]:
    """Open `path` (a file, or encoded image bytes) with Pillow, check its declared size against `max_pixels`,
    then fully decode it.

    The size check uses the header only, so an oversized file is rejected before any pixel data is
    decompressed. Pillow's own bomb check is pointed at the same limit for the duration of the call
    (and restored afterwards) so its per-frame / per-tile checks agree with ours.
    With `exif_transpose`, the EXIF orientation is applied. Returns (image detached from the file,
    orientation applied: 1..8, always 1 without `exif_transpose`). `formats` narrows the decoders tried
    (default: every installed one but EPS); `draft_size` lets JPEG decode at a reduced scale near that size.
    Raises ImageTooLarge or UnreadableImage.
    """
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    if isinstance(path, (bytes, bytearray)):
        p, opened = Path("<image bytes>"), io.BytesIO(path)
        if not path:
            raise UnreadableImage(f"{p}: empty")
    else:
        p = opened = Path(path)
        if not p.is_file():
            raise UnreadableImage(f"{p}: no such file")
        if p.stat().st_size == 0:
            raise UnreadableImage(f"{p}: file is empty")
    with _PIL_GLOBALS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            try:
                im = Image.open(opened, formats=list(formats) if formats else _allowed_formats())
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
                raise _too_large(p, e, max_pixels) from e
            except Exception as e:  # any decoder failure on untrusted bytes means "unusable file"
                raise UnreadableImage(f"{p}: not a readable image ({type(e).__name__}: {e})") from e
            with im:
                w, h = im.size
                if w < 1 or h < 1:
                    raise UnreadableImage(f"{p}: image has zero size {w}x{h}")
                if w * h > max_pixels:  # explicit, in case Pillow's check is ever relaxed
                    raise ImageTooLarge(f"{p}: {w}x{h} = {w * h} pixels exceeds max_pixels={max_pixels}")
                try:
                    if draft_size is not None:
                        im.draft("RGB", draft_size)  # JPEG: decode at a reduced scale (a no-op otherwise)
                    # load() forces the full decode here, so truncation is an error now, not later.
                    im.load()
                    orientation = 1
                    if exif_transpose:
                        orientation = _exif_orientation(im)
                        out = ImageOps.exif_transpose(im)  # always a new image, even for orientation 1
                    else:
                        out = im.copy()  # detach from the file handle that `with` closes
                except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
                    raise _too_large(p, e, max_pixels) from e
                except Exception as e:
                    raise UnreadableImage(f"{p}: corrupt or truncated image ({type(e).__name__}: {e})") from e
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit
    return out, orientation


def _exif_orientation(im: Image.Image) -> int:
    value = im.getexif().get(ExifTags.Base.Orientation, 1)
    # Out-of-range values are ignored by exif_transpose too; report what was actually applied.
    return int(value) if value in range(1, 9) else 1


def _composite_over_white(rgba: np.ndarray) -> np.ndarray:
    rgb = rgba[..., :3].astype(np.uint32)
    a = rgba[..., 3:4].astype(np.uint32)
    # Integer rounding of rgb*a/255 + 255*(255-a)/255.
    return ((rgb * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def _scale_to_uint8(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    y = (np.clip(x.astype(np.float64), lo, hi) - lo) * (255.0 / (hi - lo))
    return np.rint(y).astype(np.uint8)


def _integer_to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.itemsize == 2:  # I;16, I;16B, I;16L, I;16N
        return _scale_to_uint8(arr, 0, 65535)
    # Mode "I" is int32, but Pillow also uses it as the container for 16-bit data (e.g. 16-bit PGM).
    lo, hi = int(arr.min()), int(arr.max())
    if lo >= 0:
        return _scale_to_uint8(arr, 0, 65535 if hi <= 65535 else 2**31 - 1)
    return _scale_to_uint8(arr, -(2**31), 2**31 - 1)


def _float_to_uint8(arr: np.ndarray) -> np.ndarray:
    arr = np.where(np.isfinite(arr), arr, 0.0)
    if arr.size and float(arr.max()) <= 1.0:
        return _scale_to_uint8(arr, 0.0, 1.0)
    return np.rint(np.clip(arr, 0.0, 255.0)).astype(np.uint8)


def to_rgb_array(im: Image.Image) -> np.ndarray:
    """Convert a decoded Pillow image of any supported mode to a contiguous H x W x 3 uint8 array.

    Mode policy:

    ===================  ============================================================================
    mode                 conversion
    ===================  ============================================================================
    RGB                  unchanged
    L, 1                 grey replicated to R=G=B (mode 1: 0 / 255)
    P (no transparency)  palette lookup
    P (transparency),    converted to RGBA, then alpha composited over WHITE (transparent -> white)
    PA, LA, La, RGBa,
    RGBA
    CMYK, YCbCr, RGBX,   Pillow's convert("RGB")
    LAB, HSV, others
    I;16, I;16B, I;16L,  16-bit unsigned: linear scale by the full type range, 65535 -> 255
    I;16N
    I (int32)            non-negative values <= 65535: treated as 16-bit data (65535 -> 255, this is
                         how Pillow stores 16-bit PGM/PNG); other non-negative: 2**31-1 -> 255;
                         any negative value: full int32 range [-2**31, 2**31-1] -> [0, 255].
                         Never Pillow's convert, which clips every value above 255.
    F (float32)          NaN/inf -> 0; if max <= 1, clip to [0, 1] and scale by 255; else clip to
                         [0, 255] and round
    ===================  ============================================================================
    """
    mode = im.mode
    if mode == "RGB":
        arr = np.asarray(im)
    elif mode in ("RGBA", "LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in im.info):
        if mode == "La":  # premultiplied; Pillow only converts it to LA
            im = im.convert("LA")
        arr = _composite_over_white(np.asarray(im.convert("RGBA")))
    elif mode.startswith("I"):
        arr = _integer_to_uint8(np.asarray(im))
    elif mode == "F":
        arr = _float_to_uint8(np.asarray(im, dtype=np.float32))
    else:
        arr = np.asarray(im.convert("RGB"))
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"mode {mode} converted to unexpected array {arr.dtype} {arr.shape}")
    return np.ascontiguousarray(arr)


def load_rgb(path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, int]:
    """Read an image file as (H x W x 3 uint8 RGB, EXIF orientation 1..8 that was applied).

    The array is in display orientation (EXIF Orientation applied with `ImageOps.exif_transpose`).
    Mode conversion follows the table in `to_rgb_array`. Animated files give their first frame.
    Raises ImageTooLarge (checked from the header, before decoding) or UnreadableImage.
    """
    im, orientation = open_image(path, max_pixels=max_pixels, exif_transpose=True)
    try:
        arr = to_rgb_array(im)
    except Exception as e:
        raise UnreadableImage(f"{path}: cannot convert image ({type(e).__name__}: {e})") from e
    return arr, orientation


def apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply the EXIF orientation transform (1..8) to the first two axes of a 2-D or 3-D array.

    Matches `ImageOps.exif_transpose`, so a depth map stored on the raw pixel grid stays aligned
    with the transposed RGB image.
    """
    a = np.asarray(array)
    if a.ndim not in (2, 3):
        raise ValueError(f"expected a 2-D or 3-D array, got shape {a.shape}")
    if orientation == 1:
        out = a
    elif orientation == 2:  # mirror horizontally
        out = a[:, ::-1]
    elif orientation == 3:  # rotate 180
        out = a[::-1, ::-1]
    elif orientation == 4:  # mirror vertically
        out = a[::-1]
    elif orientation == 5:  # transpose (mirror along the main diagonal)
        out = a.swapaxes(0, 1)
    elif orientation == 6:  # rotate 90 clockwise (Pillow's ROTATE_270)
        out = np.rot90(a, k=-1, axes=(0, 1))
    elif orientation == 7:  # transverse (mirror along the anti-diagonal)
        out = a[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:  # rotate 90 counter-clockwise (Pillow's ROTATE_90)
        out = np.rot90(a, k=1, axes=(0, 1))
    else:
        raise ValueError(f"EXIF orientation must be 1..8, got {orientation!r}")
    return np.ascontiguousarray(out)
