"""Safe depth-map reading: .npy / .npz / .h5 / 16-bit PNG / float TIFF, with validity masks.

Depth comes back as float32 with NaN wherever it is unusable, plus a bool mask, so no later statistic
can silently average an invalid pixel. Files are never unpickled.

Size limits are enforced from metadata only, before any array data is read or decompressed: the FULL
shape of every depth or mask array (.npy header, the .npy header of an .npz member, the HDF5
dataset's shape and chunk shape, an image's header size) must have at most `max_pixels` elements and
at most `max_pixels * DEPTH_BYTES_PER_PIXEL` bytes, and only H x W or H x W x 1 arrays are accepted.
A small compressed file claiming a huge array (a decompression bomb) is refused with DepthTooLarge.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from spatial_ssrl.engine.sample import SourceError
from spatial_ssrl.sources.images import DEFAULT_MAX_PIXELS, ImageTooLarge, UnreadableImage, open_image

__all__ = [
    "DEPTH_BYTES_PER_PIXEL",
    "MAX_NPZ_DIRECTORY_BYTES",
    "MAX_NPZ_MEMBERS",
    "DepthError",
    "DepthTooLarge",
    "load_depth",
]

# At most this many bytes per element of a depth / mask array: a float64 map at the pixel limit, so
# the data read is bounded by max_pixels * 8 bytes whatever the dtype (float128 and wider are refused).
DEPTH_BYTES_PER_PIXEL = 8
# An .npz depth file holds a depth array and perhaps a mask; more members than this is not a depth
# file, and every member costs memory when the zip directory is parsed.
MAX_NPZ_MEMBERS = 64
# Bytes of an .npz file's zip central directory (about 64 members with long names); the directory
# is read whole by `zipfile`, so a forged huge one would be a memory bomb of its own.
MAX_NPZ_DIRECTORY_BYTES = 1 << 20

_NPY = (".npy",)
_NPZ = (".npz",)
_HDF5 = (".h5", ".hdf5")
_IMAGE = (".png", ".tif", ".tiff")

_DEPTH_KINDS = "iuf"  # bool depth is not a measurement; complex, strings and records are not numbers
_MASK_KINDS = "biuf"

# The zip "end of central directory" record, and the zip64 locator that may precede it (as in zipfile).
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP_MAX_COMMENT = 1 << 16


class DepthError(SourceError):
    """A depth map or mask that cannot be used; the message names the file and the reason."""


class DepthTooLarge(DepthError):
    """A depth map or mask whose declared size exceeds the limits (possible decompression bomb)."""


def _max_bytes(max_pixels: int) -> int:
    return max_pixels * DEPTH_BYTES_PER_PIXEL


def _check_header(
    path: Path, what: str, shape: tuple[int, ...] | None, dtype: np.dtype, kinds: str, max_pixels: int
) -> int:
    """Refuse, from metadata alone, an array that is pickled, non-numeric, too large or not H x W (x 1).
    Returns its size in bytes."""
    if dtype.hasobject:
        raise DepthError(f"{path}: {what} holds a pickled object array, refused (only numeric arrays are read)")
    if dtype.kind not in kinds:
        raise DepthError(f"{path}: {what} has non-numeric dtype {dtype}")
    if shape is None:
        raise DepthError(f"{path}: {what} has no data (empty dataspace)")
    shape = tuple(int(d) for d in shape)
    n = math.prod(shape)  # every dimension counts: H x W x 64 is 64 times H x W
    if n > max_pixels:
        raise DepthTooLarge(f"{path}: {what} shape {shape} has {n} elements, over the limit max_pixels={max_pixels}")
    nbytes = n * dtype.itemsize
    if nbytes > _max_bytes(max_pixels):
        raise DepthTooLarge(
            f"{path}: {what} shape {shape} of {dtype} is {nbytes} bytes, over the limit "
            f"max_pixels x {DEPTH_BYTES_PER_PIXEL} = {_max_bytes(max_pixels)} bytes"
        )
    if not (len(shape) == 2 or (len(shape) == 3 and shape[2] == 1)):
        raise DepthError(f"{path}: {what} must be H x W or H x W x 1, got shape {shape}")
    return nbytes


def _read_npy_header(f: BinaryIO) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length in bytes) of the .npy stream `f`; reads the header bytes only."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):  # 3.0 differs only in the header's text encoding
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    return shape, dtype, f.tell()


def _load_npy(path: Path, what: str, kinds: str, max_pixels: int) -> np.ndarray:
    try:
        # Read the header first: refuse object arrays and oversized shapes before touching the data.
        with open(path, "rb") as f:
            shape, dtype, header = _read_npy_header(f)
    except Exception as e:
        raise DepthError(f"{path}: not a readable .npy file ({type(e).__name__}: {e})") from e
    nbytes = _check_header(path, what, shape, dtype, kinds, max_pixels)
    size = path.stat().st_size
    if size < header + nbytes:
        raise DepthError(f"{path}: truncated .npy: {size} bytes, the header declares {header + nbytes}")
    try:
        # allow_pickle=False regardless: an object array must never be unpickled (code execution).
        arr = np.load(path, allow_pickle=False)
    except Exception as e:
        raise DepthError(f"{path}: unreadable .npy ({type(e).__name__}: {e})") from e
    return arr


def _check_zip_directory(path: Path) -> None:
    """Bound the zip central directory before `zipfile` reads it, finding the record as zipfile does."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size < _EOCD.size:
            raise DepthError(f"{path}: not an .npz archive ({size} bytes)")
        start = max(size - _ZIP_MAX_COMMENT - _EOCD.size, 0)
        f.seek(start)
        tail = f.read()  # at most 64 KiB + 22 bytes
    last = tail[-_EOCD.size :]
    if last.startswith(_EOCD_SIGNATURE) and last.endswith(b"\x00\x00"):
        pos = len(tail) - _EOCD.size  # zipfile first tries a record without a comment at the very end
    else:
        pos = tail.rfind(_EOCD_SIGNATURE)
        if pos < 0 or pos + _EOCD.size > len(tail):
            raise DepthError(f"{path}: not an .npz archive (no zip directory)")
    _, _, _, _, members, dir_bytes, _, _ = _EOCD.unpack_from(tail, pos)
    if pos >= _ZIP64_LOCATOR_SIZE and tail[pos - _ZIP64_LOCATOR_SIZE :].startswith(_ZIP64_LOCATOR_SIGNATURE):
        # A zip64 directory is only needed beyond 65535 members or 4 GiB, far over the limits below.
        raise DepthTooLarge(f"{path}: zip64 archive directory, refused (depth .npz files never need one)")
    if members > MAX_NPZ_MEMBERS:
        raise DepthTooLarge(f"{path}: .npz declares {members} arrays, over the limit MAX_NPZ_MEMBERS={MAX_NPZ_MEMBERS}")
    if dir_bytes > MAX_NPZ_DIRECTORY_BYTES:
        raise DepthTooLarge(
            f"{path}: .npz directory is {dir_bytes} bytes, over the limit "
            f"MAX_NPZ_DIRECTORY_BYTES={MAX_NPZ_DIRECTORY_BYTES}"
        )


def _npz_member(
    path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, kinds: str, max_pixels: int
) -> np.ndarray:
    what = f"array '{key}'"
    try:
        with zf.open(info) as m:  # decompresses only as far as the .npy header
            shape, dtype, header = _read_npy_header(m)
    except Exception as e:
        raise DepthError(f"{path}: {what} is not a readable .npy member ({type(e).__name__}: {e})") from e
    nbytes = _check_header(path, what, shape, dtype, kinds, max_pixels)
    # zipfile never inflates past the directory's size, so this bounds the bytes decompressed too.
    if info.file_size != header + nbytes:
        raise DepthError(
            f"{path}: {what} is {info.file_size} bytes uncompressed but its header declares {header + nbytes}"
        )
    with zf.open(info) as m:
        return np.lib.format.read_array(m, allow_pickle=False)


def _load_npz(
    path: Path, key: str | None, default: str, kinds: str, max_pixels: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (array at `key` or the default / only non-mask array, the `mask` array if present)."""
    _check_zip_directory(path)
    try:
        with zipfile.ZipFile(path) as zf:
            # Array names as np.load gives them: the member name without its .npy suffix.
            members = {i.filename.removesuffix(".npy"): i for i in zf.infolist()}
            names = sorted(members)
            if key is None:
                candidates = [n for n in names if n != "mask"]
                if default in names:
                    key = default
                elif len(candidates) == 1:
                    key = candidates[0]
                else:
                    raise DepthError(f"{path}: no '{default}' array and no single other array; keys: {names}")
            if key not in members:
                raise DepthError(f"{path}: key '{key}' not found; keys: {names}")
            arr = _npz_member(path, zf, members[key], key, kinds, max_pixels)
            mask = None
            if "mask" in members and key != "mask":
                mask = _npz_member(path, zf, members["mask"], "mask", _MASK_KINDS, max_pixels)
    except DepthError:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e):
            raise DepthError(f"{path}: holds a pickled object array, refused (only numeric arrays)") from e
        raise DepthError(f"{path}: unreadable .npz ({e})") from e
    except Exception as e:
        raise DepthError(f"{path}: unreadable .npz ({type(e).__name__}: {e})") from e
    return arr, mask


def _hard_linked(path: Path, f, name: str) -> bool:
    """Does `name` exist in the HDF5 file `f`, through hard links only? Soft and external links are
    refused without being followed: an external link opens another file, a soft link may lead to one."""
    import h5py  # imported lazily: only MegaDepth-style sources need it

    parts = [p for p in name.split("/") if p]
    for i in range(len(parts)):  # every step of the path, so a linked group cannot lead elsewhere either
        link = f.get("/".join(parts[: i + 1]), getlink=True)
        if link is None:
            return False
        if not isinstance(link, h5py.HardLink):
            raise DepthError(f"{path}: '{name}' is reached through a link of type {type(link).__name__}, refused")
    return True


def _hdf5_dataset(path: Path, f, name: str, kinds: str, max_pixels: int) -> np.ndarray:
    import h5py  # imported lazily: only MegaDepth-style sources need it

    what = f"dataset '{name}'"
    ds = f[name]
    if not isinstance(ds, h5py.Dataset):
        raise DepthError(f"{path}: '{name}' is a group, not a dataset")
    # External raw storage and virtual datasets read other files: a depth file may only hold its own data.
    if ds.external:
        raise DepthError(f"{path}: {what} stores its data in external files, refused")
    if ds.is_virtual:
        raise DepthError(f"{path}: {what} is a virtual dataset mapping other files, refused")
    if ds.dtype.kind not in kinds:  # check before reading strings / compound records
        raise DepthError(f"{path}: {what} has non-numeric dtype {ds.dtype}")
    _check_header(path, what, ds.shape, ds.dtype, kinds, max_pixels)
    if ds.chunks is not None:  # a chunk is decompressed whole, even when larger than the dataset
        chunk_bytes = math.prod(ds.chunks) * ds.dtype.itemsize
        if chunk_bytes > _max_bytes(max_pixels):
            raise DepthTooLarge(
                f"{path}: {what} has chunks {ds.chunks} of {chunk_bytes} bytes, over the limit "
                f"max_pixels x {DEPTH_BYTES_PER_PIXEL} = {_max_bytes(max_pixels)} bytes"
            )
    return np.asarray(ds[()])


def _load_hdf5(path: Path, key: str | None, kinds: str, max_pixels: int) -> tuple[np.ndarray, np.ndarray | None]:
    import h5py  # imported lazily: only MegaDepth-style sources need it

    key = key or "depth"
    try:
        with h5py.File(path, "r") as f:
            if not _hard_linked(path, f, key):
                raise DepthError(f"{path}: dataset '{key}' not found; keys: {sorted(f.keys())}")
            arr = _hdf5_dataset(path, f, key, kinds, max_pixels)
            mask = None
            if key != "mask" and _hard_linked(path, f, "mask") and isinstance(f["mask"], h5py.Dataset):
                mask = _hdf5_dataset(path, f, "mask", _MASK_KINDS, max_pixels)
    except DepthError:
        raise
    except Exception as e:
        raise DepthError(f"{path}: unreadable HDF5 file ({type(e).__name__}: {e})") from e
    return arr, mask


def _open_depth_image(path: Path, max_pixels: int):
    try:
        # The header size is checked against max_pixels before decoding (at most 4 bytes per pixel
        # for the F / I modes, within DEPTH_BYTES_PER_PIXEL).
        im, _ = open_image(path, max_pixels=max_pixels)
    except ImageTooLarge as e:
        raise DepthTooLarge(str(e)) from e
    except UnreadableImage as e:
        raise DepthError(str(e)) from e
    return im


def _load_image_depth(path: Path, scale: float | None, max_pixels: int) -> np.ndarray:
    # No EXIF transpose: a depth image is taken as stored; load_source aligns it by its orientation policy.
    im = _open_depth_image(path, max_pixels)
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
        arr = _load_npy(path, "mask", _MASK_KINDS, max_pixels)
    elif suffix in _NPZ:
        arr, _ = _load_npz(path, None, "mask", _MASK_KINDS, max_pixels)
    elif suffix in _HDF5:
        arr, _ = _load_hdf5(path, "mask", _MASK_KINDS, max_pixels)
    else:
        im = _open_depth_image(path, max_pixels)
        arr = np.asarray(im.convert("L") if im.mode in ("1", "P") else im)
    return _truthy(_as_2d(arr, path, "mask", _MASK_KINDS))


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
    outside a mask is invalid. Arrays are never unpickled.
    Limits, checked from metadata before any data is read: every depth / mask array has at most
    `max_pixels` elements (all dimensions multiplied) and `max_pixels * DEPTH_BYTES_PER_PIXEL` bytes;
    an .npz has at most MAX_NPZ_MEMBERS arrays and a MAX_NPZ_DIRECTORY_BYTES zip directory.
    Raises DepthError naming the file (DepthTooLarge for a limit).
    """
    p = Path(path)
    if max_pixels < 1:
        raise ValueError(f"max_pixels must be >= 1, got {max_pixels}")
    if not p.is_file():
        raise DepthError(f"{p}: no such file")
    if scale is not None and not (math.isfinite(scale) and scale > 0):
        raise DepthError(f"{p}: depth scale must be a positive finite number, got {scale!r}")
    suffix = p.suffix.lower()
    mask = None
    if suffix in _NPY:
        arr = _load_npy(p, "depth", _DEPTH_KINDS, max_pixels)
    elif suffix in _NPZ:
        arr, mask = _load_npz(p, key, "depth", _DEPTH_KINDS, max_pixels)
    elif suffix in _HDF5:
        arr, mask = _load_hdf5(p, key, _DEPTH_KINDS, max_pixels)
    elif suffix in _IMAGE:
        arr = _load_image_depth(p, scale, max_pixels)
    else:
        raise DepthError(f"{p}: unsupported depth format '{suffix}' (use .npy, .npz, .h5, .hdf5, .png, .tif)")
    arr = _as_2d(arr, p, "depth", _DEPTH_KINDS)

    with np.errstate(over="ignore", invalid="ignore"):
        depth = arr.astype(np.float32)  # a copy; float64 values beyond float32 become inf -> invalid
        if scale is not None:
            depth *= np.float32(scale)
    valid = np.isfinite(depth) & (depth > 0)
    masks = [] if mask is None else [(_truthy(_as_2d(mask, p, "mask", _MASK_KINDS)), p)]
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
