"""Tests of spatial_ssrl.sources.images: mode policy, EXIF orientation, corrupt files, decompression bombs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageFile, ImageOps

from spatial_ssrl.sources import ImageTooLarge, SourceError, UnreadableImage, apply_orientation, load_rgb
from spatial_ssrl.sources.images import to_rgb_array


def _save(tmp_path, im: Image.Image, name: str, **kw):
    p = tmp_path / name
    im.save(p, **kw)
    return p


def _noise_rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# ---------------------------------------------------------------- mode conversion


def test_rgb_png_round_trip(tmp_path):
    a = _noise_rgb(5, 7)
    arr, orientation = load_rgb(_save(tmp_path, Image.fromarray(a), "a.png"))
    assert orientation == 1
    assert arr.dtype == np.uint8 and arr.flags.c_contiguous
    np.testing.assert_array_equal(arr, a)


def test_rgb_webp_lossless_round_trip(tmp_path):
    a = _noise_rgb(6, 4)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(a), "a.webp", lossless=True))
    np.testing.assert_array_equal(arr, a)


def test_mode_L(tmp_path):
    g = np.arange(256, dtype=np.uint8).reshape(16, 16)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(g, "L"), "g.png"))
    assert arr.shape == (16, 16, 3)
    for c in range(3):
        np.testing.assert_array_equal(arr[:, :, c], g)


def test_mode_LA_composited_over_white(tmp_path):
    la = np.array([[[0, 0], [0, 255], [100, 128]]], dtype=np.uint8)  # 1 x 3, (L, A)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(la, "LA"), "la.png"))
    assert arr[0, 0].tolist() == [255] * 3  # fully transparent -> white
    assert arr[0, 1].tolist() == [0] * 3  # opaque black stays black
    expected = round((100 * 128 + 255 * 127) / 255)
    assert arr[0, 2].tolist() == [expected] * 3


def test_mode_RGBA_composited_over_white(tmp_path):
    rgba = np.array([[[10, 20, 30, 0], [10, 20, 30, 255], [200, 0, 0, 128]]], dtype=np.uint8)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(rgba, "RGBA"), "rgba.png"))
    assert arr[0, 0].tolist() == [255, 255, 255]
    assert arr[0, 1].tolist() == [10, 20, 30]
    assert arr[0, 2].tolist() == [round((200 * 128 + 255 * 127) / 255), 127, 127]


def _palette_image() -> Image.Image:
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putdata([0, 1, 2])
    return im


def test_mode_P_without_transparency(tmp_path):
    arr, _ = load_rgb(_save(tmp_path, _palette_image(), "p.png"))
    assert arr.tolist() == [[[255, 0, 0], [0, 255, 0], [0, 0, 255]]]


def test_mode_P_with_transparency(tmp_path):
    p = _save(tmp_path, _palette_image(), "pt.png", transparency=1)
    assert Image.open(p).info.get("transparency") == 1
    arr, _ = load_rgb(p)
    assert arr.tolist() == [[[255, 0, 0], [255, 255, 255], [0, 0, 255]]]


def test_mode_CMYK(tmp_path):
    cmyk = np.array([[[0, 0, 0, 0], [0, 255, 255, 0], [0, 0, 0, 255]]], dtype=np.uint8)
    p = _save(tmp_path, Image.fromarray(cmyk, "CMYK"), "c.tif")
    assert Image.open(p).mode == "CMYK"
    arr, _ = load_rgb(p)
    assert arr.tolist() == [[[255, 255, 255], [255, 0, 0], [0, 0, 0]]]


def test_mode_YCbCr(tmp_path):
    ycc = Image.fromarray(_noise_rgb(4, 5)).convert("YCbCr")
    p = _save(tmp_path, ycc, "y.tif")
    assert Image.open(p).mode == "YCbCr"
    arr, _ = load_rgb(p)
    np.testing.assert_array_equal(arr, np.asarray(ycc.convert("RGB")))


def test_mode_1(tmp_path):
    bits = np.array([[0, 1, 1, 0]], dtype=bool)
    p = _save(tmp_path, Image.fromarray(bits), "b.png")
    assert Image.open(p).mode == "1"
    arr, _ = load_rgb(p)
    assert arr[0, :, 0].tolist() == [0, 255, 255, 0]


def test_mode_I16_gradient_uses_full_range(tmp_path):
    grad = np.linspace(0, 65535, 256).round().astype(np.uint16).reshape(1, 256)
    p = _save(tmp_path, Image.fromarray(grad), "g16.png")
    assert Image.open(p).mode == "I;16"
    arr, _ = load_rgb(p)
    v = arr[0, :, 0]
    assert v.min() == 0 and v.max() == 255  # Pillow's convert would clip almost all of it to 255
    assert np.all(np.diff(v.astype(int)) >= 0)
    assert len(np.unique(v)) > 200
    assert int(v[128]) == round(int(grad[0, 128]) * 255 / 65535)


def test_mode_I16B_full_range(tmp_path):
    grad = np.array([[0, 32768, 65535]], dtype=">u2")
    im = Image.frombytes("I;16B", (3, 1), grad.tobytes())
    p = _save(tmp_path, im, "g16b.tif")
    assert Image.open(p).mode == "I;16B"
    arr, _ = load_rgb(p)
    assert arr[0, :, 0].tolist() == [0, 128, 255]


def test_mode_I32_holding_16bit_values(tmp_path):
    p = _save(tmp_path, Image.fromarray(np.array([[0, 32768, 65535]], dtype=np.int32)), "i.tif")
    assert Image.open(p).mode == "I"
    arr, _ = load_rgb(p)
    assert arr[0, :, 0].tolist() == [0, 128, 255]


def test_mode_I32_full_int32_range(tmp_path):
    big = np.array([[0, 2**30, 2**31 - 1]], dtype=np.int32)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(big), "big.tif"))
    assert arr[0, :, 0].tolist() == [0, 128, 255]
    signed = np.array([[-(2**31), 0, 2**31 - 1]], dtype=np.int32)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(signed), "signed.tif"))
    assert arr[0, :, 0].tolist() == [0, 128, 255]


def test_mode_F_unit_range(tmp_path):
    f = np.array([[-0.5, 0.0, 0.5, 1.0, np.nan]], dtype=np.float32)
    p = _save(tmp_path, Image.fromarray(f), "f1.tif")
    assert Image.open(p).mode == "F"
    arr, _ = load_rgb(p)
    assert arr[0, :, 0].tolist() == [0, 0, 128, 255, 0]


def test_mode_F_byte_range(tmp_path):
    f = np.array([[-3.0, 0.0, 100.4, 254.6, 300.0]], dtype=np.float32)
    arr, _ = load_rgb(_save(tmp_path, Image.fromarray(f), "f255.tif"))
    assert arr[0, :, 0].tolist() == [0, 0, 100, 255, 255]


@pytest.mark.parametrize("mode", ["RGBX", "RGBa", "La", "PA", "HSV", "I;16L", "I;16N"])
def test_other_modes_convert_to_rgb_uint8(mode):
    im = Image.new(mode, (3, 2))
    arr = to_rgb_array(im)
    assert arr.shape == (2, 3, 3) and arr.dtype == np.uint8 and arr.flags.c_contiguous


def test_one_by_one_image(tmp_path):
    arr, orientation = load_rgb(_save(tmp_path, Image.new("RGB", (1, 1), (1, 2, 3)), "one.png"))
    assert arr.shape == (1, 1, 3) and arr[0, 0].tolist() == [1, 2, 3] and orientation == 1


# ---------------------------------------------------------------- EXIF orientation

# Raw image 16 (H) x 32 (W) made of 8x8 blocks; the marker block covers rows 0-7, cols 8-15 and its
# centre pixel (4, 12) must land at these display coordinates (EXIF semantics, worked out by hand).
RAW_H, RAW_W = 16, 32
MARKER = (255, 0, 0)
EXPECTED = {
    1: ((16, 32), (4, 12)),
    2: ((16, 32), (4, 19)),  # mirror horizontal
    3: ((16, 32), (11, 19)),  # rotate 180
    4: ((16, 32), (11, 12)),  # mirror vertical
    5: ((32, 16), (12, 4)),  # transpose
    6: ((32, 16), (12, 11)),  # rotate 90 clockwise
    7: ((32, 16), (19, 11)),  # transverse
    8: ((32, 16), (19, 4)),  # rotate 90 counter-clockwise
}


def _asymmetric_raw() -> np.ndarray:
    a = np.zeros((RAW_H, RAW_W, 3), dtype=np.uint8)
    greys = [40, 80, 120, 160, 200, 230, 20, 100]
    for i, (r, c) in enumerate((r, c) for r in range(2) for c in range(4)):
        a[r * 8 : r * 8 + 8, c * 8 : c * 8 + 8] = greys[i]
    a[0:8, 8:16] = MARKER
    return a


def save_jpeg_with_orientation(path, raw: np.ndarray, orientation: int):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    Image.fromarray(raw).save(path, "JPEG", quality=95, exif=exif)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_moves_known_pixel(tmp_path, orientation):
    p = save_jpeg_with_orientation(tmp_path / f"o{orientation}.jpg", _asymmetric_raw(), orientation)
    arr, applied = load_rgb(p)
    shape, (y, x) = EXPECTED[orientation]
    assert applied == orientation
    assert arr.shape[:2] == shape
    assert np.abs(arr[y, x].astype(int) - MARKER).max() < 20  # JPEG: approximately red
    # ...and it is the only red block.
    red = (arr[:, :, 0] > 200) & (arr[:, :, 1] < 60)
    assert 40 < red.sum() < 90


def test_out_of_range_orientation_is_ignored(tmp_path):
    p = save_jpeg_with_orientation(tmp_path / "o9.jpg", _asymmetric_raw(), 9)
    arr, applied = load_rgb(p)
    assert applied == 1 and arr.shape[:2] == (RAW_H, RAW_W)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_apply_orientation_matches_pillow(orientation):
    raw = _noise_rgb(5, 7, seed=orientation)
    im = Image.fromarray(raw)
    exif = im.getexif()
    exif[ExifTags.Base.Orientation] = orientation
    im.info["exif"] = exif.tobytes()
    expected = np.asarray(ImageOps.exif_transpose(im))
    np.testing.assert_array_equal(apply_orientation(raw, orientation), expected)
    # 2-D arrays (depth, masks) follow the same transform as each channel.
    np.testing.assert_array_equal(apply_orientation(raw[:, :, 1], orientation), expected[:, :, 1])


def test_apply_orientation_rejects_bad_input():
    with pytest.raises(ValueError):
        apply_orientation(np.zeros((2, 2)), 0)
    with pytest.raises(ValueError):
        apply_orientation(np.zeros(4), 1)


# ---------------------------------------------------------------- unreadable files


def test_corrupt_bytes(tmp_path):
    p = tmp_path / "junk.jpg"
    p.write_bytes(b"this is not an image at all\x00\xff" * 20)
    with pytest.raises(UnreadableImage, match="junk.jpg"):
        load_rgb(p)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(UnreadableImage, match="empty"):
        load_rgb(p)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableImage, match="no such file"):
        load_rgb(tmp_path / "nope.png")


@pytest.mark.parametrize("fmt,suffix", [("JPEG", "jpg"), ("PNG", "png")])
def test_truncated_file(tmp_path, fmt, suffix):
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    p = tmp_path / f"t.{suffix}"
    Image.fromarray(_noise_rgb(64, 64)).save(p, fmt)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableImage, match=f"t.{suffix}") as info:
        load_rgb(p)
    assert isinstance(info.value, SourceError)
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_eps_is_not_opened(tmp_path):
    p = tmp_path / "x.eps"
    p.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(UnreadableImage):
        load_rgb(p)


# ---------------------------------------------------------------- decompression bombs


def test_decompression_bomb_rejected_before_decoding(tmp_path, monkeypatch):
    p = _save(tmp_path, Image.new("L", (2000, 2000)), "bomb.png")
    limit_before = Image.MAX_IMAGE_PIXELS
    filters_before = list(warnings.filters)
    decoded = []
    real_load = ImageFile.ImageFile.load

    def spy_load(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    with pytest.raises(ImageTooLarge, match="bomb.png") as info:
        load_rgb(p, max_pixels=1_000_000)
    assert isinstance(info.value, SourceError)
    assert decoded == []  # rejected from the header alone
    assert limit_before == Image.MAX_IMAGE_PIXELS  # restored
    assert list(warnings.filters) == filters_before
    # Within the limit it decodes fine.
    arr, _ = load_rgb(p, max_pixels=4_000_000)
    assert arr.shape == (2000, 2000, 3)
    assert decoded and set(decoded) == {(2000, 2000)}


def test_bomb_header_without_pixel_data(tmp_path):
    # A header claiming 2000x2000 followed by no pixel data: reading it would be UnreadableImage,
    # so ImageTooLarge proves the decision came from the header before any decode.
    p = _save(tmp_path, Image.new("L", (2000, 2000)), "hdr.png")
    p.write_bytes(p.read_bytes()[:60])
    with pytest.raises(ImageTooLarge):
        load_rgb(p, max_pixels=1_000_000)
    with pytest.raises(UnreadableImage):
        load_rgb(p, max_pixels=4_000_000)


def test_limit_above_pillow_default_is_honoured(tmp_path, monkeypatch):
    # Our limit governs, even when it is looser than Pillow's global one; the global is restored.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    p = _save(tmp_path, Image.new("RGB", (30, 30)), "small.png")
    arr, _ = load_rgb(p, max_pixels=10_000)
    assert arr.shape == (30, 30, 3)
    assert Image.MAX_IMAGE_PIXELS == 100
    with pytest.raises(ImageTooLarge):
        load_rgb(p, max_pixels=899)


@pytest.mark.parametrize("size", [(1500, 1000), (2000, 2000)])  # over the limit; over twice the limit
def test_bomb_message_states_the_limit_in_force(tmp_path, size):
    # Pillow's own error quotes 2 x its threshold; the message must state max_pixels, the limit applied.
    p = _save(tmp_path, Image.new("L", size), "bomb.png")
    with pytest.raises(ImageTooLarge) as info:
        load_rgb(p, max_pixels=1_000_000)
    message = str(info.value)
    assert f"{size[0] * size[1]} pixels exceeds max_pixels=1000000" in message
    assert "2000000" not in message and "\n" not in message
