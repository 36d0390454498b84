"""Tests of spatial_ssrl.sources.depth and load_source: formats, invalid depth, pickles, sizes, orientation."""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib

import h5py
import numpy as np
import pytest
from PIL import ExifTags, Image

from spatial_ssrl.engine.sample import Source
from spatial_ssrl.sources import DepthError, DepthTooLarge, SizeMismatch, SourceError, load_depth, load_source
from spatial_ssrl.sources.depth import MAX_NPZ_MEMBERS
from spatial_ssrl.sources.load import resize_nearest


def _depth(h: int = 4, w: int = 6) -> np.ndarray:
    return (1.0 + np.arange(h * w, dtype=np.float32).reshape(h, w)) / 4.0


# ---------------------------------------------------------------- formats


@pytest.mark.parametrize("shape", ["hw", "hw1"])
def test_npy_round_trip(tmp_path, shape):
    d = _depth()
    np.save(tmp_path / "d.npy", d if shape == "hw" else d[:, :, None])
    depth, valid = load_depth(tmp_path / "d.npy")
    assert depth.dtype == np.float32 and valid.dtype == bool and depth.shape == (4, 6)
    np.testing.assert_array_equal(depth, d)
    assert valid.all()


def test_npy_with_separate_mask(tmp_path):
    d = _depth()
    m = np.ones((4, 6, 1), dtype=np.float32)  # DIODE masks are H x W float, nonzero = valid
    m[1, 2] = 0
    np.save(tmp_path / "d.npy", d[:, :, None])
    np.save(tmp_path / "m.npy", m)
    depth, valid = load_depth(tmp_path / "d.npy", mask_path=tmp_path / "m.npy")
    assert not valid[1, 2] and np.isnan(depth[1, 2])
    assert valid.sum() == 23
    np.testing.assert_array_equal(depth[valid], d[valid])


def test_png_mask(tmp_path):
    np.save(tmp_path / "d.npy", _depth())
    m = np.full((4, 6), 255, dtype=np.uint8)
    m[0, 0] = 0
    Image.fromarray(m).save(tmp_path / "m.png")
    _, valid = load_depth(tmp_path / "d.npy", mask_path=tmp_path / "m.png")
    assert not valid[0, 0] and valid.sum() == 23


def test_npz_default_key_and_mask(tmp_path):
    d = _depth()
    mask = np.ones((4, 6), dtype=bool)
    mask[3, 5] = False
    np.savez(tmp_path / "d.npz", depth=d, mask=mask, other=np.zeros(3))
    depth, valid = load_depth(tmp_path / "d.npz")
    assert not valid[3, 5] and valid.sum() == 23
    np.testing.assert_array_equal(depth[valid], d[valid])


def test_npz_only_array_and_custom_key(tmp_path):
    d = _depth()
    np.savez_compressed(tmp_path / "only.npz", d)
    np.testing.assert_array_equal(load_depth(tmp_path / "only.npz")[0], d)
    np.savez(tmp_path / "two.npz", a=d, b=d * 2)
    np.testing.assert_array_equal(load_depth(tmp_path / "two.npz", key="b")[0], d * 2)
    with pytest.raises(DepthError, match="two.npz"):
        load_depth(tmp_path / "two.npz")  # ambiguous
    with pytest.raises(DepthError, match="'zzz' not found"):
        load_depth(tmp_path / "two.npz", key="zzz")


def test_hdf5_round_trip(tmp_path):
    d = _depth()
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f.create_dataset("depth", data=d)
        f.create_dataset("alt", data=d * 3)
    depth, valid = load_depth(tmp_path / "d.h5")
    np.testing.assert_array_equal(depth, d)
    assert valid.all()
    np.testing.assert_array_equal(load_depth(tmp_path / "d.h5", key="alt")[0], d * 3)
    with pytest.raises(DepthError, match="'missing' not found"):
        load_depth(tmp_path / "d.h5", key="missing")


def test_hdf5_string_dataset_rejected(tmp_path):
    with h5py.File(tmp_path / "s.hdf5", "w") as f:
        f.create_dataset("depth", data=np.array([b"abc", b"def"]))
    with pytest.raises(DepthError, match="non-numeric"):
        load_depth(tmp_path / "s.hdf5")


def test_png16_with_scale(tmp_path):
    raw = np.array([[0, 1000, 65535], [256, 512, 1]], dtype=np.uint16)
    Image.fromarray(raw).save(tmp_path / "d.png")
    depth, valid = load_depth(tmp_path / "d.png", scale=0.001)
    assert valid.tolist() == [[False, True, True], [True, True, True]]
    np.testing.assert_allclose(depth[valid], raw[valid] * 0.001, rtol=1e-6)
    depth256, _ = load_depth(tmp_path / "d.png", scale=1 / 256)
    assert depth256[1, 0] == 1.0 and depth256[1, 1] == 2.0


def test_png16_requires_scale(tmp_path):
    Image.fromarray(np.ones((2, 2), dtype=np.uint16)).save(tmp_path / "d.png")
    with pytest.raises(DepthError, match="scale"):
        load_depth(tmp_path / "d.png")
    with pytest.raises(DepthError, match="positive"):
        load_depth(tmp_path / "d.png", scale=-1.0)


def test_png8_rejected(tmp_path):
    Image.fromarray(np.ones((2, 2), dtype=np.uint8)).save(tmp_path / "vis.png")
    with pytest.raises(DepthError, match="not a depth map"):
        load_depth(tmp_path / "vis.png", scale=1.0)


def test_tiff_float_round_trip(tmp_path):
    d = _depth()
    d[0, 0] = np.nan
    Image.fromarray(d).save(tmp_path / "d.tiff")
    depth, valid = load_depth(tmp_path / "d.tiff")
    assert not valid[0, 0] and valid.sum() == 23
    np.testing.assert_array_equal(depth[valid], d[valid])
    np.testing.assert_array_equal(load_depth(tmp_path / "d.tiff", scale=2.0)[0][valid], 2 * d[valid])


# ---------------------------------------------------------------- invalid depth and bad files


def test_invalid_depth_classes_masked(tmp_path):
    d = np.array([[1.0, 0.0, -2.0], [np.nan, np.inf, -np.inf], [3.0, 4.0, 5.0]], dtype=np.float32)
    m = np.ones((3, 3), dtype=np.uint8)
    m[2, 2] = 0  # outside the mask
    np.save(tmp_path / "d.npy", d)
    np.save(tmp_path / "m.npy", m)
    depth, valid = load_depth(tmp_path / "d.npy", mask_path=tmp_path / "m.npy")
    assert valid.tolist() == [[True, False, False], [False, False, False], [True, True, False]]
    assert np.isnan(depth[~valid]).all()
    assert depth[valid].tolist() == [1.0, 3.0, 4.0]


def test_all_invalid_depth(tmp_path):
    np.save(tmp_path / "z.npy", np.zeros((3, 4), dtype=np.uint16))
    depth, valid = load_depth(tmp_path / "z.npy")
    assert valid.shape == (3, 4) and not valid.any() and np.isnan(depth).all()
    Image.new("RGB", (4, 3)).save(tmp_path / "rgb.png")
    src = load_source(tmp_path / "rgb.png", tmp_path / "z.npy")
    assert src.valid is not None and not src.valid.any()


def test_pickled_object_npy_rejected_without_unpickling(tmp_path):
    sentinel = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):  # unpickling would create the sentinel file
            return (open, (str(sentinel), "w"))

    arr = np.empty((2, 2), dtype=object)
    arr[0, 0] = Evil()
    np.save(tmp_path / "evil.npy", arr, allow_pickle=True)
    np.savez(tmp_path / "evil.npz", depth=arr)
    with pytest.raises(DepthError, match="evil.npy.*pickled"):
        load_depth(tmp_path / "evil.npy")
    with pytest.raises(DepthError, match="evil.npz.*pickled"):
        load_depth(tmp_path / "evil.npz")
    np.save(tmp_path / "d.npy", _depth(2, 2))
    with pytest.raises(DepthError, match="evil.npy"):
        load_depth(tmp_path / "d.npy", mask_path=tmp_path / "evil.npy")
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "arr,match",
    [
        (np.ones((2, 3, 3), dtype=np.float32), "H x W"),
        (np.ones(5, dtype=np.float32), "H x W"),
        (np.ones((2, 2, 2, 1), dtype=np.float32), "H x W"),
        (np.zeros((0, 3), dtype=np.float32), "empty"),
        (np.array([["a", "b"]]), "non-numeric"),
        (np.ones((2, 2), dtype=bool), "non-numeric"),
        (np.ones((2, 2), dtype=np.complex64), "non-numeric"),
    ],
)
def test_bad_arrays_rejected(tmp_path, arr, match):
    np.save(tmp_path / "bad.npy", arr)
    with pytest.raises(DepthError, match=match) as info:
        load_depth(tmp_path / "bad.npy")
    assert "bad.npy" in str(info.value) and isinstance(info.value, SourceError)


@pytest.mark.parametrize("name", ["junk.npy", "junk.npz", "junk.h5", "junk.png", "junk.tif"])
def test_unreadable_files(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x93NUMPY garbage garbage" * 3)
    with pytest.raises(DepthError, match=name):
        load_depth(tmp_path / name, scale=1.0)


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(DepthError, match="no such file"):
        load_depth(tmp_path / "none.npy")
    (tmp_path / "d.exr").write_bytes(b"x")
    with pytest.raises(DepthError, match="unsupported"):
        load_depth(tmp_path / "d.exr")


def test_mask_shape_mismatch(tmp_path):
    np.save(tmp_path / "d.npy", _depth(4, 6))
    np.save(tmp_path / "m.npy", np.ones((4, 5)))
    with pytest.raises(DepthError, match="mask shape"):
        load_depth(tmp_path / "d.npy", mask_path=tmp_path / "m.npy")
    np.savez(tmp_path / "d.npz", depth=_depth(4, 6), mask=np.ones((6, 4)))
    with pytest.raises(DepthError, match="mask shape"):
        load_depth(tmp_path / "d.npz")


def test_oversized_npy_rejected_from_header(tmp_path):
    np.save(tmp_path / "big.npy", np.ones((100, 100), dtype=np.float32))
    with pytest.raises(DepthError, match="max_pixels"):
        load_depth(tmp_path / "big.npy", max_pixels=9_999)


# ---------------------------------------------------------------- load_source


def _blocks_rgb(h: int, w: int, k: int) -> np.ndarray:
    """h x w image of k x k blocks with distinct colours per block."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = (yy // k) * 40 % 256
    g = (xx // k) * 30 % 256
    return np.stack([r, g, np.full_like(r, 90)], axis=2).astype(np.uint8)


def test_load_source_rgb_only(tmp_path):
    Image.new("RGB", (5, 3), (9, 8, 7)).save(tmp_path / "a.png")
    src = load_source(tmp_path / "a.png", focal_px=4.0)  # 64 degrees over 5 px
    assert isinstance(src, Source)
    assert src.id == str(tmp_path / "a.png") and src.depth is None and src.focal_px == 4.0
    assert load_source(tmp_path / "a.png", source_id="x").id == "x"


def test_load_source_with_depth(tmp_path):
    Image.fromarray(_blocks_rgb(4, 6, 2)).save(tmp_path / "a.png")
    np.save(tmp_path / "d.npy", _depth(4, 6))
    src = load_source(tmp_path / "a.png", tmp_path / "d.npy")
    np.testing.assert_array_equal(src.depth, _depth(4, 6))
    assert src.valid.all()


# Marker centre (4, 12) of a 16 x 32 raw grid -> display coordinates for each EXIF orientation.
EXIF_EXPECTED = {
    1: ((16, 32), (4, 12)),
    2: ((16, 32), (4, 19)),
    3: ((16, 32), (11, 19)),
    4: ((16, 32), (11, 12)),
    5: ((32, 16), (12, 4)),
    6: ((32, 16), (12, 11)),
    7: ((32, 16), (19, 11)),
    8: ((32, 16), (19, 4)),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_to_rgb_and_depth(tmp_path, orientation):
    # Orientations 2-4 keep the 32x16 size, so the depth fits both grids: the policy must be stated.
    stated = "stored" if orientation in (2, 3, 4) else None
    raw = np.full((16, 32, 3), 128, dtype=np.uint8)
    raw[0:8, 8:16] = (255, 0, 0)  # marker block around raw pixel (4, 12)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    Image.fromarray(raw).save(tmp_path / "a.jpg", "JPEG", quality=95, exif=exif)
    depth_raw = 1.0 + np.arange(16 * 32, dtype=np.float32).reshape(16, 32)  # unique per raw pixel
    np.save(tmp_path / "d.npy", depth_raw)
    mask = np.ones((16, 32), dtype=bool)
    mask[4, 12] = False
    mask[4, 13] = False
    np.save(tmp_path / "m.npy", mask)

    src = load_source(tmp_path / "a.jpg", tmp_path / "d.npy", depth_orientation=stated)
    shape, (y, x) = EXIF_EXPECTED[orientation]
    assert src.rgb.shape[:2] == shape and src.depth.shape == shape
    assert np.abs(src.rgb[y, x].astype(int) - (255, 0, 0)).max() < 20
    assert src.depth[y, x] == depth_raw[4, 12]

    masked = load_source(tmp_path / "a.jpg", tmp_path / "d.npy", mask_path=tmp_path / "m.npy", depth_orientation=stated)
    assert not masked.valid[y, x] and np.isnan(masked.depth[y, x])
    assert masked.valid.sum() == 16 * 32 - 2


def test_size_mismatch_error(tmp_path):
    Image.new("RGB", (6, 4)).save(tmp_path / "a.png")
    np.save(tmp_path / "d.npy", _depth(3, 6))
    with pytest.raises(SizeMismatch, match="6x3.*6x4") as info:
        load_source(tmp_path / "a.png", tmp_path / "d.npy")
    assert isinstance(info.value, SourceError)


def test_size_mismatch_nearest_preserves_values(tmp_path):
    Image.fromarray(_blocks_rgb(8, 12, 2)).save(tmp_path / "a.png")
    d = _depth(4, 6)
    d[1, 1] = np.nan
    np.save(tmp_path / "d.npy", d)
    src = load_source(tmp_path / "a.png", tmp_path / "d.npy", depth_resize="nearest")
    assert src.depth.shape == (8, 12)
    expected = np.repeat(np.repeat(d, 2, axis=0), 2, axis=1)  # exact 2x: every value in a 2x2 block
    np.testing.assert_array_equal(src.depth, expected)
    np.testing.assert_array_equal(src.valid, np.isfinite(expected))
    # Downsizing by nearest only ever picks existing values.
    Image.new("RGB", (3, 2)).save(tmp_path / "small.png")
    small = load_source(tmp_path / "small.png", tmp_path / "d.npy", depth_resize="nearest")
    assert set(small.depth[small.valid].tolist()) <= set(d[np.isfinite(d)].tolist())


def test_size_mismatch_nearest_refuses_other_aspect(tmp_path):
    Image.new("RGB", (12, 8)).save(tmp_path / "a.png")
    np.save(tmp_path / "d.npy", _depth(4, 4))
    with pytest.raises(SizeMismatch, match="aspect"):
        load_source(tmp_path / "a.png", tmp_path / "d.npy", depth_resize="nearest")
    with pytest.raises(ValueError):
        load_source(tmp_path / "a.png", tmp_path / "d.npy", depth_resize="bilinear")


def test_max_side_downscale_keeps_alignment_and_scales_focal(tmp_path):
    rgb = _blocks_rgb(32, 64, 8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    # Depth identifies the 8x8 block, so alignment can be checked block by block.
    yy, xx = np.mgrid[0:32, 0:64]
    d = (1 + (yy // 8) * 8 + (xx // 8)).astype(np.float32)
    d[0:8, 0:8] = 0  # one invalid block
    np.save(tmp_path / "d.npy", d)
    src = load_source(tmp_path / "a.png", tmp_path / "d.npy", max_side=16, focal_px=200.0)
    assert src.rgb.shape == (8, 16, 3) and src.depth.shape == (8, 16)
    assert src.focal_px == pytest.approx(50.0)
    for by in range(4):
        for bx in range(8):
            # Block (by, bx) is now 2x2 pixels; its top-left pixel belongs to that block only.
            y, x = by * 2, bx * 2
            np.testing.assert_allclose(src.rgb[y, x], rgb[by * 8 + 4, bx * 8 + 4], atol=12)
            if (by, bx) == (0, 0):
                assert not src.valid[y, x]
            else:
                assert src.depth[y, x] == 1 + by * 8 + bx
    # No change when the image is already small enough.
    same = load_source(tmp_path / "a.png", tmp_path / "d.npy", max_side=64, focal_px=200.0)
    assert same.rgb.shape == (32, 64, 3) and same.focal_px == 200.0


def test_resize_nearest_bool_and_identity():
    m = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(resize_nearest(m, 4, 4), np.kron(m, np.ones((2, 2), dtype=bool)))
    np.testing.assert_array_equal(resize_nearest(m, 2, 2), m)


# ---------------------------------------------------------------- decompression bombs (full shape, bytes)

# Peak resident memory a refused bomb may cost the process that reads it (imports included).
BOMB_RSS_LIMIT_MB = 300
# Address-space cap of the child: only a safety net so that a regression fails with MemoryError instead
# of swapping the shared machine; the assertion is on the measured peak RSS.
_CHILD_ADDRESS_SPACE = 3 << 30
_CHILD_TIMEOUT_S = 120

_CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
from spatial_ssrl.sources import load_depth, load_source
call = json.loads(sys.argv[2])
try:
    if call["fn"] == "load_source":
        load_source(call["rgb"], call["path"])
    else:
        load_depth(call["path"], mask_path=call.get("mask"))
    out = {"error": None}
except BaseException as e:
    out = {"error": [c.__name__ for c in type(e).__mro__], "message": str(e)}
# VmHWM: the peak RSS of this process image. (ru_maxrss would not do: Linux carries it over from the parent
# across fork + exec, so a large test runner would be measured instead of this child.)
with open("/proc/self/status") as status:
    hwm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
out["maxrss_mb"] = hwm_kb / 1024
print(json.dumps(out))
"""


def _load_in_child(**call) -> dict:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(_CHILD_ADDRESS_SPACE), json.dumps({k: str(v) for k, v in call.items()})],
        capture_output=True,
        text=True,
        timeout=_CHILD_TIMEOUT_S,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _npy_header(path, shape, descr="<f4", sparse_data=True) -> None:
    """An .npy file whose header claims `shape`; the data is a sparse hole (no disk, reads as zeros)."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
        if sparse_data:
            f.truncate(f.tell() + math.prod(shape) * np.dtype(descr).itemsize)


@pytest.fixture(scope="module")
def npz_bomb(tmp_path_factory):
    # 16000 x 16000 float32 zeros: 1 GB of data in ~1 MB. np.zeros is calloc'ed and savez writes it in
    # chunks, so making it costs this process little memory.
    path = tmp_path_factory.mktemp("bomb") / "depth.npz"
    np.savez_compressed(path, depth=np.zeros((16000, 16000), dtype=np.float32))
    assert path.stat().st_size < 2_000_000
    return path


def _bomb(tmp_path, kind, npz_bomb):
    """(depth path, mask path or None) of one bomb kind, made in tmp_path."""
    if kind == "npz":
        return npz_bomb, None
    if kind == "h5":
        # 4000 x 4000 x 64 float32 = 4 GB, gzip + chunked; never written, so the file is a few KB and
        # every read returns the fill value: a read would still allocate all of it.
        with h5py.File(tmp_path / "d.h5", "w") as f:
            f.create_dataset("depth", shape=(4000, 4000, 64), dtype="f4", chunks=(250, 250, 16), compression="gzip")
        assert (tmp_path / "d.h5").stat().st_size < 100_000
        return tmp_path / "d.h5", None
    if kind == "npy-3d":
        _npy_header(tmp_path / "d.npy", (8000, 8000, 64))  # H x W = max_pixels exactly, 64 channels
        return tmp_path / "d.npy", None
    if kind == "npz-mask":
        np.savez_compressed(tmp_path / "d.npz", depth=_depth(), mask=np.zeros((9000, 9000), dtype=np.uint8))
        return tmp_path / "d.npz", None
    if kind == "h5-mask":
        with h5py.File(tmp_path / "d.h5", "w") as f:
            f.create_dataset("depth", data=_depth())
            f.create_dataset("mask", shape=(9000, 9000), dtype="f8", chunks=(1000, 1000), compression="gzip")
        return tmp_path / "d.h5", None
    if kind == "mask-file":
        np.save(tmp_path / "d.npy", _depth())
        _npy_header(tmp_path / "m.npy", (8000, 8000, 16), descr="|u1")  # 1 GB; H x W alone is within the limit
        return tmp_path / "d.npy", tmp_path / "m.npy"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["npz", "h5", "npy-3d", "npz-mask", "h5-mask", "mask-file"])
def test_depth_bombs_refused_from_metadata(tmp_path, npz_bomb, kind):
    depth, mask = _bomb(tmp_path, kind, npz_bomb)
    call = {"fn": "load_depth", "path": depth} if mask is None else {"fn": "load_depth", "path": depth, "mask": mask}
    out = _load_in_child(**call)
    assert out["error"] is not None and "DepthTooLarge" in out["error"] and "DepthError" in out["error"], out
    assert "max_pixels=64000000" in out["message"] and "\n" not in out["message"], out["message"]
    assert out["maxrss_mb"] < BOMB_RSS_LIMIT_MB, out


def test_depth_bomb_refused_through_load_source(tmp_path, npz_bomb):
    Image.new("RGB", (6, 4)).save(tmp_path / "a.png")
    out = _load_in_child(fn="load_source", rgb=tmp_path / "a.png", path=npz_bomb)
    assert out["error"] is not None and "DepthTooLarge" in out["error"], out
    assert "depth.npz" in out["message"] and "max_pixels=64000000" in out["message"]
    assert out["maxrss_mb"] < BOMB_RSS_LIMIT_MB, out


@pytest.mark.parametrize(
    "shape,descr,match",
    [
        ((10, 10, 2), "<f4", r"200 elements, over the limit max_pixels=100"),  # full shape, not H x W
        ((10, 10), "<f16", r"1600 bytes, over the limit max_pixels x 8 = 800 bytes"),  # float128
    ],
)
def test_full_shape_and_bytes_checked_from_npy_header(tmp_path, shape, descr, match):
    if descr == "<f16" and np.dtype(np.longdouble).itemsize != 16:
        pytest.skip("no 16-byte float on this platform")
    _npy_header(tmp_path / "d.npy", shape, descr)
    with pytest.raises(DepthError, match=match):
        load_depth(tmp_path / "d.npy", max_pixels=100)


def test_truncated_npy_refused_before_reading(tmp_path):
    _npy_header(tmp_path / "d.npy", (4, 6), sparse_data=False)
    with pytest.raises(DepthError, match=r"truncated \.npy: 128 bytes, the header declares 224"):
        load_depth(tmp_path / "d.npy")


def test_hdf5_chunk_larger_than_limit_refused(tmp_path):
    # A 10 x 10 dataset whose chunks are 100 x 100: reading it decompresses a whole chunk.
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f.create_dataset("depth", data=_depth(10, 10), maxshape=(None, None), chunks=(100, 100))
    with pytest.raises(DepthTooLarge, match=r"chunks \(100, 100\) of 40000 bytes, over the limit max_pixels x 8"):
        load_depth(tmp_path / "d.h5", max_pixels=1000)
    assert load_depth(tmp_path / "d.h5", max_pixels=5000)[0].shape == (10, 10)


def test_npz_with_too_many_members_refused(tmp_path):
    arrays = {f"a{i}": np.zeros(1, np.uint8) for i in range(MAX_NPZ_MEMBERS + 1)}
    np.savez(tmp_path / "d.npz", depth=_depth(), **arrays)
    with pytest.raises(DepthTooLarge, match=f"{MAX_NPZ_MEMBERS + 2} arrays, over the limit MAX_NPZ_MEMBERS="):
        load_depth(tmp_path / "d.npz")


def test_npz_member_size_must_match_its_header(tmp_path):
    # The zip directory says 1 MB, the .npy header inside says 4 x 6 float32: refused, nothing inflated.
    buf = io.BytesIO()
    np.save(buf, _depth())
    with zipfile.ZipFile(tmp_path / "d.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("depth.npy", buf.getvalue() + bytes(1_000_000))
        z.writestr("raw.npy", b"not an npy member")
    with pytest.raises(DepthError, match="uncompressed but its header declares"):
        load_depth(tmp_path / "d.npz")
    with pytest.raises(DepthError, match="'raw' is not a readable .npy member"):
        load_depth(tmp_path / "d.npz", key="raw")


def test_npz_zip64_directory_refused(tmp_path):
    np.savez(tmp_path / "d.npz", depth=_depth())
    data = (tmp_path / "d.npz").read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    locator = b"PK\x06\x07" + bytes(16)  # a zip64 locator right before the end record
    (tmp_path / "z.npz").write_bytes(data[:eocd] + locator + data[eocd:])
    with pytest.raises(DepthTooLarge, match="zip64 archive directory, refused"):
        load_depth(tmp_path / "z.npz")


def test_depth_image_bomb_names_the_limit(tmp_path):
    # A 16-bit PNG header claiming 20000 x 20000 (no pixel data): refused from the header.
    p = tmp_path / "d.png"
    header = io.BytesIO()
    Image.new("I;16", (1, 1)).save(header, "PNG")
    png = bytearray(header.getvalue())
    struct.pack_into(">II", png, 16, 20000, 20000)  # IHDR width / height
    struct.pack_into(">I", png, 29, zlib.crc32(png[12:29]))  # IHDR checksum
    p.write_bytes(bytes(png))
    with pytest.raises(DepthTooLarge, match="max_pixels=64000000"):
        load_depth(p, scale=0.001)


# ---------------------------------------------------------------- HDF5 reaching other files


@pytest.mark.parametrize("how", ["external-storage", "external-link", "virtual", "soft-link-group", "mask-link"])
def test_hdf5_never_reads_other_files(tmp_path, how):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = np.full((4, 6), 7.0, np.float32)
    (outside / "secret.bin").write_bytes(secret.tobytes())
    with h5py.File(outside / "other.h5", "w") as f:
        f.create_dataset("depth", data=secret)
    with h5py.File(tmp_path / "d.h5", "w") as f:
        if how == "external-storage":  # the dataset's raw bytes live in another file
            f.create_dataset("depth", shape=(4, 6), dtype="f4", external=[(str(outside / "secret.bin"), 0, 96)])
        elif how == "external-link":
            f["depth"] = h5py.ExternalLink(str(outside / "other.h5"), "depth")
        elif how == "virtual":
            layout = h5py.VirtualLayout(shape=(4, 6), dtype="f4")
            layout[:] = h5py.VirtualSource(str(outside / "other.h5"), "depth", shape=(4, 6))
            f.create_virtual_dataset("depth", layout)
        elif how == "soft-link-group":
            f["g"] = h5py.ExternalLink(str(outside / "other.h5"), "/")
            f["depth"] = h5py.SoftLink("/g/depth")
        else:
            f.create_dataset("depth", data=_depth())
            f["mask"] = h5py.ExternalLink(str(outside / "other.h5"), "depth")
    with pytest.raises(DepthError, match="external files|link of type|virtual dataset"):
        load_depth(tmp_path / "d.h5")
