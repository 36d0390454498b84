"""Safe depth-map reading: .npy / .npz / .h5 / 16-bit PNG / float TIFF, with validity masks.

Depth comes back as float32 with NaN wherever it is unusable, plus a bool mask, so no later statistic
can silently average an invalid pixel. Files are never unpickled.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from spatial_ssrl.engine.sample import SourceError
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS, ImageTooLarge, UnreadableImage, open_image

__all__ = ["DepthError", "load_depth"]

_NPY = (".npy",)
_NPZ = (".npz",)
_HDF5 = (".h5", ".hdf5")
_IMAGE = (".png", ".tif", ".tiff")


class DepthError(SourceError):
    """A depth map or mask that cannot be used; the message names the file and the reason."""


def _check_header(path: Path, shape: tuple[int, ...], dtype: np.dtype, max_pixels: int) -> None:
    if dtype.hasobject:
        raise DepthError(f"{path}: holds a pickled object array, refused (only numeric arrays are read)")
    n = math.prod(shape[:2]) if len(shape) >= 2 else math.prod(shape)
    if n > max_pixels:
        raise DepthError(f"{path}: array shape {shape} exceeds max_pixels={max_pixels}")


def _load_npy(path: Path, max_pixels: int) -> np.ndarray:
    try:
        # Read the header first: refuse object arrays and oversized shapes before touching the data.
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except Exception as e:
        raise DepthError(f"{path}: not a readable .npy file ({type(e).__name__}: {e})") from e
    _check_header(path, shape, dtype, max_pixels)
    try:
        # allow_pickle=False regardless: an object array must never be unpickled (code execution).
        arr = np.load(path, allow_pickle=False)
    except Exception as e:
        raise DepthError(f"{path}: unreadable .npy ({type(e).__name__}: {e})") from e
    return arr


def _load_npz(path: Path, key: str | None, default: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (array at `key` or the default / only non-mask array, the `mask` array if present)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise DepthError(f"{path}: is not an .npz archive")
            names = list(z.files)
            if key is None:
                candidates = [n for n in names if n != "mask"]
                if default in names:
                    key = default
                elif len(candidates) == 1:
                    key = candidates[0]
                else:
                    raise DepthError(f"{path}: no '{default}' array and no single other array; keys: {names}")
            if key not in names:
                raise DepthError(f"{path}: key '{key}' not found; keys: {names}")
            arr = z[key]  # raises for object arrays because of allow_pickle=False
            mask = z["mask"] if "mask" in names and key != "mask" else None
    except DepthError:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise DepthError(f"{path}: holds a pickled object array, refused (only numeric arrays)") from e
        raise DepthError(f"{path}: unreadable .npz ({e})") from e
    except Exception as e:
        raise DepthError(f"{path}: unreadable .npz ({type(e).__name__}: {e})") from e
    return arr, mask


def _load_hdf5(path: Path, key: str | None, max_pixels: int) -> tuple[np.ndarray, np.ndarray | None]:
    import h5py  # imported lazily: only MegaDepth-style sources need it

    key = key or "depth"
    try:
        with h5py.File(path, "r") as f:
            if key not in f:
                raise DepthError(f"{path}: dataset '{key}' not found; keys: {sorted(f.keys())}")
            ds = f[key]
            if not isinstance(ds, h5py.Dataset):
                raise DepthError(f"{path}: '{key}' is a group, not a dataset")
            if ds.dtype.kind not in "biuf":  # check before reading strings / compound records
                raise DepthError(f"{path}: dataset '{key}' has non-numeric dtype {ds.dtype}")
            _check_header(path, ds.shape, ds.dtype, max_pixels)
            arr = ds[()]
            mask = None
            if key != "mask" and isinstance(f.get("mask"), h5py.Dataset):
                mask = f["mask"][()]
    except DepthError:
        raise
    except Exception as e:
        raise DepthError(f"{path}: unreadable HDF5 file ({type(e).__name__}: {e})") from e
    return np.asarray(arr), (None if mask is None else np.asarray(mask))


def _load_image_depth(path: Path, scale: float | None, max_pixels: int) -> np.ndarray:
    try:
        # No EXIF transpose: a depth image is taken as stored, aligned with the RGB's raw grid.
        im, _ = open_image(path, max_pixels=max_pixels)
    except (ImageTooLarge, UnreadableImage) as e:
        raise DepthError(str(e)) from e
    if im.mode == "F":
        return np.asarray(im, dtype=np.float32)
    if im.mode.startswith("I"):  # I;16, I;16B, I (32-bit)
        if scale is None:
            raise DepthError(
                f"{path}: integer depth image (mode {im.mode}) needs an explicit scale to metres, e.g. "
                "0.001 for millimetres or 1/256 for KITTI-style PNGs; pass scale="
            )
        return np.asarray(im)
    raise DepthError(
        f"{path}: image mode {im.mode} is not a depth map (expected 16/32-bit integer or 32-bit float); "
        "an 8-bit image is usually a visualisation, not depth"
    )


def _as_2d(arr: np.ndarray, path: Path, what: str, kinds: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.dtype.kind not in kinds:
        raise DepthError(f"{path}: {what} has non-numeric dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim != 2:
        raise DepthError(f"{path}: {what} must be H x W or H x W x 1, got shape {arr.shape}")
    if arr.size == 0:
        raise DepthError(f"{path}: {what} is empty, shape {arr.shape}")
    return arr


def _load_mask(path: Path, max_pixels: int) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix in _NPY:
        arr = _load_npy(path, max_pixels)
    elif suffix in _NPZ:
        arr, _ = _load_npz(path, None, "mask")
    elif suffix in _HDF5:
        arr, _ = _load_hdf5(path, "mask", max_pixels)
    else:
        try:
            im, _ = open_image(path, max_pixels=max_pixels)
        except (ImageTooLarge, UnreadableImage) as e:
            raise DepthError(str(e)) from e
        arr = np.asarray(im.convert("L") if im.mode in ("1", "P") else im)
    return _truthy(_as_2d(arr, path, "mask", "biuf"))


def _truthy(mask: np.ndarray) -> np.ndarray:
    # Nonzero means valid; a NaN in a float mask is not a statement of validity.
    return (np.nan_to_num(mask, nan=0) != 0) if mask.dtype.kind == "f" else (mask != 0)


def load_depth(
    path: str | os.PathLike[str],
    *,
    mask_path: str | os.PathLike[str] | None = None,
    scale: float | None = None,
    key: str | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a depth map as (H x W float32 depth with NaN where invalid, H x W bool valid mask).

    Formats (by extension):
      .npy          H x W or H x W x 1 numeric array (DIODE style)
      .npz          array `key`, else `depth`, else the only non-`mask` array; a `mask` array is used
      .h5 / .hdf5   dataset `key` (default `depth`, MegaDepth style); a `mask` dataset is used
      .png          16-bit (mode I;16 / I) integers times `scale`, which is REQUIRED (units differ
                    between datasets: millimetres, 1/256 m, ...); 0 = invalid
      .tif / .tiff  32-bit float (mode F), or integers like PNG (then `scale` is required)
    `scale`, when given, multiplies the depth of any format. `mask_path` (.npy, .npz, .h5 or an image;
    nonzero = valid) is ANDed with the built-in mask. Depth that is 0, negative, NaN, +/-inf or
    outside a mask is invalid. Arrays are never unpickled. Raises DepthError naming the file.
    """
    p = Path(path)
    if not p.is_file():
        raise DepthError(f"{p}: no such file")
    if scale is not None and not (math.isfinite(scale) and scale > 0):
        raise DepthError(f"{p}: depth scale must be a positive finite number, got {scale!r}")
    suffix = p.suffix.lower()
    mask = None
    if suffix in _NPY:
        arr = _load_npy(p, max_pixels)
    elif suffix in _NPZ:
        arr, mask = _load_npz(p, key, "depth")
    elif suffix in _HDF5:
        arr, mask = _load_hdf5(p, key, max_pixels)
    elif suffix in _IMAGE:
        arr = _load_image_depth(p, scale, max_pixels)
    else:
        raise DepthError(f"{p}: unsupported depth format '{suffix}' (use .npy, .npz, .h5, .hdf5, .png, .tif)")
    # Bool depth is not a measurement; complex, strings and records are not numbers.
    arr = _as_2d(arr, p, "depth", "iuf")

    with np.errstate(over="ignore", invalid="ignore"):
        depth = arr.astype(np.float32)  # a copy; float64 values beyond float32 become inf -> invalid
        if scale is not None:
            depth *= np.float32(scale)
    valid = np.isfinite(depth) & (depth > 0)
    masks = [] if mask is None else [(_truthy(_as_2d(mask, p, "mask", "biuf")), p)]
    if mask_path is not None:
        mp = Path(mask_path)
        if not mp.is_file():
            raise DepthError(f"{mp}: no such mask file")
        masks.append((_load_mask(mp, max_pixels), mp))
    for m, src in masks:
        if m.shape != depth.shape:
            raise DepthError(f"{src}: mask shape {m.shape} differs from depth shape {depth.shape} of {p}")
        valid &= m
    depth[~valid] = np.nan
    return np.ascontiguousarray(depth), np.ascontiguousarray(valid)
