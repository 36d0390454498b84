"""Input discovery: folder walks, DIODE / MegaDepth layouts, manifests, CLI specs (fixtures made in tmp_path)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pickle
import re
import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from spatial_ssrl.sources import SizeMismatch
from spatial_ssrl.sources.discover import (
    DIODE_FOCAL_PX,
    DiscoveryReport,
    ManifestError,
    NoSourcesMatched,
    SkippedInputsWarning,
    SourceRef,
    bundled_photos,
    diode_tree,
    discover,
    megadepth_tree,
    photo_folder,
    read_manifest,
    rgbd_tree,
    synthetic,
)
from spatial_ssrl.sources.intrinsics import ImplausibleFocal

W, H = 8, 6


def _image(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    return path


def _npy(path: Path, value: float = 2.0, channel: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((H, W, 1) if channel else (H, W), value, np.float32)
    np.save(path, arr)
    return path


def _h5(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    depth = np.linspace(1, 5, H * W, dtype=np.float32).reshape(H, W)
    depth[0, 0] = 0  # MegaDepth marks missing depth with 0
    with h5py.File(path, "w") as f:
        f.create_dataset("depth", data=depth)
    return path


def _skipped(record) -> dict[str, list[str]]:
    return {w.message.reason: w.message.paths for w in record if isinstance(w.message, SkippedInputsWarning)}


# --------------------------------------------------------------------------------------------------
# Photo folders


@pytest.fixture
def coco(tmp_path) -> Path:
    root = tmp_path / "coco"
    _image(root / "train2017" / "000000000009.jpg")
    _image(root / "train2017" / "000000000001.jpg")
    _image(root / "train2017" / "sub" / "deep.PNG")
    _image(root / "val2017" / "000000000139.jpeg")
    (root / "annotations").mkdir()
    (root / "annotations" / "instances.json").write_text("{}")
    (root / "README.txt").write_text("not an image")
    return root


def test_photo_folder_recursive_ids_and_suffixes(coco):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refs = photo_folder(coco)
    assert [r.id for r in refs] == [
        "coco/train2017/000000000001.jpg",
        "coco/train2017/000000000009.jpg",
        "coco/train2017/sub/deep.PNG",
        "coco/val2017/000000000139.jpeg",
    ]
    for r in refs:
        assert Path(r.rgb).is_absolute() and Path(r.rgb).is_file()
        assert r.depth is None and not r.has_depth
    assert [r.id for r in photo_folder(coco / "train2017", name="c")][0] == "c/000000000001.jpg"
    assert refs[0].load().rgb.shape == (H, W, 3)


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        pytest.param(
            ("train2017/*.jpg",), (), {"train2017/000000000001.jpg", "train2017/000000000009.jpg"}, id="dir-star"
        ),
        pytest.param(("*.jpg",), (), {"train2017/000000000001.jpg", "train2017/000000000009.jpg"}, id="basename"),
        pytest.param(
            ("**/*.jpeg", "**/*.PNG"), (), {"val2017/000000000139.jpeg", "train2017/sub/deep.PNG"}, id="multi"
        ),
        pytest.param(
            ("train2017/**",),
            ("**/sub/**",),
            {"train2017/000000000001.jpg", "train2017/000000000009.jpg"},
            id="exclude-dir",
        ),
        pytest.param(
            ("**/*",), ("*9.jp*g",), {"train2017/000000000001.jpg", "train2017/sub/deep.PNG"}, id="exclude-name"
        ),
        pytest.param(("*.png",), (), set(), id="case-sensitive"),
        pytest.param(("train2017/00000000000[!9].jp?",), (), {"train2017/000000000001.jpg"}, id="char-class"),
    ],
)
def test_photo_folder_globs(coco, include, exclude, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty selection warns
        refs = photo_folder(coco, include=include, exclude=exclude)
    assert {r.id.removeprefix("coco/") for r in refs} == expected


def test_photo_folder_bad_patterns_and_roots(coco, tmp_path):
    with pytest.raises(ValueError, match="relative to the root"):
        photo_folder(coco, include=("/abs/*.jpg",))
    with pytest.raises(FileNotFoundError):
        photo_folder(tmp_path / "missing")
    with pytest.raises(NotADirectoryError):
        photo_folder(coco / "README.txt")
    (tmp_path / "empty").mkdir()
    with pytest.warns(UserWarning, match="no sources found"):
        assert photo_folder(tmp_path / "empty") == []


def test_order_is_stable_and_ids_survive_a_move(tmp_path):
    root = tmp_path / "a" / "shots"
    for name in ["z.jpg", "b/y.jpg", "a.jpg", "b.jpg", "b/a/x.jpg", "B.jpg"]:  # created out of order
        _image(root / name)
    ids = [r.id for r in photo_folder(root)]
    assert ids == sorted(ids) and len(ids) == 6
    assert [r.id for r in photo_folder(root)] == ids
    moved = tmp_path / "elsewhere" / "shots"
    moved.parent.mkdir()
    shutil.move(root, moved)
    refs = photo_folder(moved)
    assert [r.id for r in refs] == ids
    assert all(r.rgb.startswith(str(moved.resolve())) for r in refs)


def test_photo_folder_symlinks(tmp_path):
    root = tmp_path / "root"
    _image(root / "real.jpg")
    outside = _image(tmp_path / "outside" / "secret.jpg")
    (root / "escape.jpg").symlink_to(outside)
    (root / "alias.jpg").symlink_to(root / "real.jpg")
    (root / "dangling.jpg").symlink_to(tmp_path / "root" / "nothing.jpg")
    (root / "outdir").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.warns(SkippedInputsWarning) as record:
        refs = photo_folder(root)
    assert [r.id for r in refs] == ["root/alias.jpg", "root/real.jpg"]
    assert refs[0].rgb == str((root / "real.jpg").resolve())  # the checked target is what gets read
    skipped = _skipped(record)
    assert skipped["symlink resolving outside the root"] == ["escape.jpg"]
    assert skipped["broken symlink or symlink to a non-file"] == ["dangling.jpg"]
    assert skipped["symlinked folder (not followed)"] == ["outdir"]
    assert "escape.jpg" in str(next(w.message for w in record if "outside" in w.message.reason))


# --------------------------------------------------------------------------------------------------
# DIODE and MegaDepth layouts

DIODE_STEM = "outdoor/scene_00022/scan_00193/00022_00193_outdoor_000_010"


@pytest.fixture
def diode(tmp_path) -> Path:
    root = tmp_path / "val"
    _image(root / f"{DIODE_STEM}.png")
    _npy(root / f"{DIODE_STEM}_depth.npy", 3.0, channel=True)  # DIODE stores H x W x 1
    mask = np.ones((H, W), np.uint8)
    mask[0] = 0
    np.save(root / f"{DIODE_STEM}_depth_mask.npy", mask)
    _image(root / "indoors/scene_00019/scan_00183/00019_00183_indoors_000_010.png")
    _npy(root / "indoors/scene_00019/scan_00183/00019_00183_indoors_000_010_depth.npy")
    _image(root / "indoors/scene_00019/scan_00183/no_depth.png")
    _npy(root / "indoors/scene_00019/scan_00183/orphan_depth.npy")
    return root


def test_diode_tree(diode):
    with pytest.warns(SkippedInputsWarning) as record:
        refs = diode_tree(diode)
    assert [r.id for r in refs] == [
        "diode/indoors/scene_00019/scan_00183/00019_00183_indoors_000_010.png",
        f"diode/{DIODE_STEM}.png",
    ]
    indoor, outdoor = refs
    assert indoor.mask is None and indoor.depth.endswith("00019_00183_indoors_000_010_depth.npy")
    assert outdoor.depth == str(diode.resolve() / f"{DIODE_STEM}_depth.npy")
    assert outdoor.mask == str(diode.resolve() / f"{DIODE_STEM}_depth_mask.npy")
    assert all(r.focal_px == DIODE_FOCAL_PX == 886.81 and r.depth_scale is None for r in refs)
    assert _skipped(record) == {
        "PNG without X_depth.npy": ["indoors/scene_00019/scan_00183/no_depth.png"],
        "depth map without X.png": ["indoors/scene_00019/scan_00183/orphan_depth.npy"],
    }
    # DIODE's focal is for 1024 px wide images: over these 8 px it would mean a 0.5 degree view.
    with pytest.raises(ImplausibleFocal, match="886.81.*0.517 degrees over 8 px"):
        outdoor.load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        only_out = diode_tree(diode, name="d", focal_px=None, include=("outdoor/**",))
        rescaled = diode_tree(diode, focal_px=DIODE_FOCAL_PX * W / 1024)
    assert [r.id for r in only_out] == [f"d/{DIODE_STEM}.png"] and only_out[0].focal_px is None
    src = rescaled[1].load()
    assert src.id == outdoor.id and src.focal_px == pytest.approx(886.81 * W / 1024)
    assert not src.valid[0].any() and src.valid[1:].all() and np.nanmax(src.depth) == 3.0


def test_megadepth_tree(tmp_path):
    root = tmp_path / "MegaDepth"
    scene = root / "phoenix/S6/zl548/MegaDepth_v1/0001/dense0"
    _image(scene / "imgs" / "1234_abc.jpg")
    _h5(scene / "depths" / "1234_abc.h5")
    _image(scene / "imgs" / "5678.JPG")
    _h5(scene / "depths" / "5678.h5")
    _image(scene / "imgs" / "no_depth.jpg")
    _image(root / "other" / "stray.jpg")
    _image(root / "imgs" / "top.png")  # tolerant: any `imgs` folder, even at the root
    _h5(root / "depths" / "top.h5")
    with pytest.warns(SkippedInputsWarning) as record:
        refs = megadepth_tree(root)
    prefix = "megadepth/phoenix/S6/zl548/MegaDepth_v1/0001/dense0/imgs/"
    assert [r.id for r in refs] == ["megadepth/imgs/top.png", f"{prefix}1234_abc.jpg", f"{prefix}5678.JPG"]
    assert refs[1].depth == str(scene.resolve() / "depths" / "1234_abc.h5")
    assert all(r.depth_key == "depth" and r.focal_px is None and r.mask is None for r in refs)
    assert _skipped(record) == {
        "image without ../depths/<stem>.h5": ["phoenix/S6/zl548/MegaDepth_v1/0001/dense0/imgs/no_depth.jpg"],
        "image not in an `imgs` folder": ["other/stray.jpg"],
    }
    src = refs[1].load()
    assert src.has_depth and not src.valid[0, 0] and src.valid.sum() == H * W - 1


# --------------------------------------------------------------------------------------------------
# Manifests


@pytest.fixture
def rgbd(tmp_path) -> Path:
    """A root with a.png + a_depth.npy (millimetres as float) + mask, b.jpg + b.h5, and an outside file."""
    root = tmp_path / "nyu"
    _image(root / "rgb" / "a.png")
    _npy(root / "depth" / "a.npy", 1500.0)
    np.save(root / "depth" / "a_mask.npy", np.eye(H, W, dtype=np.uint8))
    _image(root / "rgb" / "b.jpg", seed=1)
    _h5(root / "depth" / "b.h5")
    _image(tmp_path / "outside.png")
    (root / "rgb" / "escape.png").symlink_to(tmp_path / "outside.png")
    (root / "outlink").symlink_to(tmp_path, target_is_directory=True)
    return root


def test_manifest_csv_loads_with_depth(rgbd):
    text = (
        "rgb, depth ,mask,scale,focal_px,id,depth_key\n"
        "rgb/a.png,depth/a.npy,depth/a_mask.npy,0.001,5,,\n"
        "\n"
        "./rgb/x/../b.jpg,depth/b.h5,,,,my-b,depth\n"
        "rgb/b.jpg\n"
    )
    (rgbd / "list.csv").write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refs = read_manifest(rgbd / "list.csv", rgbd)
    assert [r.id for r in refs] == ["my-b", "nyu/rgb/a.png", "nyu/rgb/b.jpg"]
    b, a, b_rgb = refs
    assert a.depth_scale == 0.001 and a.focal_px == 5.0 and a.mask.endswith("a_mask.npy")
    assert b.depth_key == "depth" and b.rgb == str(rgbd.resolve() / "rgb" / "b.jpg")
    assert b_rgb.depth is None and not b_rgb.has_depth
    src = a.load()
    assert src.id == "nyu/rgb/a.png" and src.focal_px == 5.0
    assert src.valid.sum() == min(H, W) and np.nanmax(src.depth) == pytest.approx(1.5)
    assert b.load().has_depth


def test_manifest_jsonl_and_name(rgbd):
    lines = [
        {"rgb": "rgb/a.png", "depth": "depth/a.npy", "scale": 0.001, "focal_px": "500"},
        {"rgb": "rgb/b.jpg", "depth": "depth/b.h5", "mask": None, "id": None},
    ]
    manifest = rgbd / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    refs = read_manifest(manifest, rgbd, name="set")
    assert [r.id for r in refs] == ["set/rgb/a.png", "set/rgb/b.jpg"]
    assert refs[0].depth_scale == 0.001 and refs[0].focal_px == 500.0
    assert refs[1].load().has_depth


def _row(**kw) -> str:
    return json.dumps(kw)


HEADER = "rgb,depth,mask,scale,focal_px,id\n"
GOOD = "rgb/a.png,depth/a.npy,,,,\n"
REJECTIONS = [
    # (suffix, manifest text, line of the error, fragment of the message)
    ("csv", HEADER + GOOD + "{outside},,,,,\n", 3, "is absolute"),
    ("csv", HEADER + "../outside.png,,,,,\n", 2, "'../outside.png' escapes the root"),
    ("csv", HEADER + GOOD + GOOD.replace("rgb/a.png", "rgb/../../outside.png"), 3, "escapes the root"),
    ("csv", HEADER + GOOD + "rgb/escape.png,,,,,\n", 3, "'rgb/escape.png' resolves through a symlink"),
    ("csv", HEADER + "outlink/outside.png,,,,,\n", 2, "'outlink/outside.png' resolves through a symlink"),
    ("csv", HEADER + GOOD + "rgb/a.png,depth/../../outside.png,,,,x\n", 3, "depth path 'depth/../../outside.png'"),
    ("csv", HEADER + " ,depth/a.npy,,,,\n", 2, "rgb is empty"),
    ("csv", HEADER + "rgb/a.png,depth/a.npy,,abc,,\n", 2, "scale is not a number: 'abc'"),
    ("csv", HEADER + "rgb/a.png,depth/a.npy,,0,,\n", 2, "scale must be a positive finite number, got '0'"),
    ("csv", HEADER + "rgb/a.png,depth/a.npy,,-1,,\n", 2, "got '-1'"),
    ("csv", HEADER + "rgb/a.png,depth/a.npy,,,nan,\n", 2, "focal_px must be a positive finite number, got 'nan'"),
    ("csv", HEADER + "rgb/a.png,depth/a.npy,,,12px,\n", 2, "focal_px is not a number: '12px'"),
    ("csv", "rgb,depht\nrgb/a.png,depth/a.npy\n", 1, "unknown column(s) ['depht']"),
    ("csv", "rgb/a.png,depth/a.npy\n", 1, "unknown column(s) ['rgb/a.png', 'depth/a.npy']"),
    ("csv", "depth\ndepth/a.npy\n", 1, "no 'rgb' column"),
    ("csv", HEADER + GOOD + "rgb/a.png,,,,,,extra\n", 3, "7 values but the header has 6 columns"),
    ("csv", HEADER + GOOD + "rgb/./a.png,,,,,\n", 3, "duplicate id 'nyu/rgb/a.png' (first on line 2)"),
    ("csv", HEADER + "rgb/a.png,,,,,same\nrgb/b.jpg,,,,,same\n", 3, "duplicate id 'same'"),
    ("csv", HEADER + GOOD + "rgb/missing.png,,,,,\n", 3, "rgb file 'rgb/missing.png' does not exist"),
    ("csv", HEADER + "rgb/a.png,depth/none.npy,,,,\n", 2, "depth file 'depth/none.npy' does not exist"),
    ("csv", HEADER + "rgb,,,,,\n", 2, "'rgb' is not a file"),
    ("csv", HEADER + "rgb/a.png,,depth/a_mask.npy,,,\n", 2, "mask 'depth/a_mask.npy' is given without a depth map"),
    ("jsonl", _row(rgb="rgb/a.png") + "\n" + _row(rgb="/etc/passwd") + "\n", 2, "'/etc/passwd' is absolute"),
    ("jsonl", _row(rgb="rgb/a.png") + "\n\n" + _row(rgb="rgb/a.png", dpeth="x") + "\n", 3, "unknown key(s) ['dpeth']"),
    ("jsonl", _row(rgb="rgb/a.png") + '\n{"rgb": "rgb/b.jpg",\n', 2, "malformed JSON"),
    ("jsonl", '["rgb/a.png"]\n', 1, "expected a JSON object, got list"),
    ("jsonl", _row(rgb="") + "\n", 1, "rgb is empty"),
    ("jsonl", _row(rgb=None, depth="depth/a.npy") + "\n", 1, "rgb is empty"),
    ("jsonl", _row(rgb="rgb/a.png", depth="depth/a.npy", scale=-0.5) + "\n", 1, "got -0.5"),
    ("jsonl", _row(rgb="rgb/a.png", depth="depth/a.npy", scale=True) + "\n", 1, "scale must be a number, got True"),
    ("jsonl", _row(rgb="rgb/a.png", focal_px=0) + "\n", 1, "focal_px must be a positive finite number, got 0"),
    ("jsonl", _row(rgb="rgb/a.png") + "\n" + _row(rgb="rgb/a.png") + "\n", 2, "duplicate id 'nyu/rgb/a.png'"),
    ("jsonl", _row(rgb="rgb/a.png", id=7) + "\n", 1, "id must be a string, got 7"),
    ("jsonl", _row(rgb="C:\\data\\a.png") + "\n", 1, "is absolute"),
    ("jsonl", _row(rgb="rgb/a.png", scale=0.001) + "\n", 1, "scale 0.001 is given without a depth map"),
    ("jsonl", _row(rgb="rgb/a.png") + "\n" + "[" * 30_000 + "]" * 30_000 + "\n", 2, "JSON nested too deeply"),
    ("jsonl", _row(rgb="rgb/a.png") + "\n" + '{"a":' * 100_000 + "\n", 2, "line longer than 65536 characters"),
    ("jsonl", '{"rgb": "rgb/a.png", "depth": "depth/a.npy", "scale": 1' + "0" * 5000 + "}\n", 1, "unparsable JSON"),
    ("jsonl", _row(rgb="rgb/a.png", depth="depth/a.npy", scale=10**400) + "\n", 1, "scale must be a positive finite"),
    ("jsonl", _row(rgb="rgb/a.png", id="x" * 70_000) + "\n" + _row(rgb="rgb/b.jpg") + "\n", 1, "line longer than"),
    ("csv", HEADER + GOOD + "rgb/b.jpg,,,," + "9" * 70_000 + ",\n", 3, "line longer than 65536 characters"),
    ("csv", HEADER + "rgb/a.png,depth/a.npy,,,1e-300,\n", 2, "focal_px=1e-300 gives no horizontal field of view"),
    ("jsonl", _row(rgb="rgb/a.png", focal_px=1e300) + "\n", 1, "within 10-170 degrees for any image 1-64000000 px"),
    ("jsonl", _row(rgb="rgb/a.png", depth="depth/a.npy", depth_orientation="up") + "\n", 1, "one of stored, display"),
    ("jsonl", _row(rgb="rgb/a.png", depth_resize="nearest") + "\n", 1, "depth_resize 'nearest' is given without a"),
    ("csv", "rgb,depth_orientation\nrgb/a.png,display\n", 2, "depth_orientation 'display' is given without a"),
]
REJECTION_IDS = [
    "absolute",
    "dotdot",
    "dotdot-nested",
    "symlink-file-out",
    "symlink-dir-out",
    "depth-dotdot",
    "empty-rgb",
    "scale-not-number",
    "scale-zero",
    "scale-negative",
    "focal-nan",
    "focal-not-number",
    "unknown-column",
    "no-header",
    "no-rgb-column",
    "too-many-values",
    "duplicate-default-id",
    "duplicate-explicit-id",
    "missing-rgb",
    "missing-depth",
    "rgb-is-folder",
    "mask-without-depth",
    "jsonl-absolute",
    "jsonl-unknown-key",
    "jsonl-malformed",
    "jsonl-not-object",
    "jsonl-empty-rgb",
    "jsonl-null-rgb",
    "jsonl-scale-negative",
    "jsonl-scale-bool",
    "jsonl-focal-zero",
    "jsonl-duplicate-id",
    "jsonl-id-not-string",
    "jsonl-windows-absolute",
    "jsonl-scale-without-depth",
    "jsonl-nested-30k-deep",
    "jsonl-nested-100k-deep",
    "jsonl-int-over-digit-limit",
    "jsonl-int-overflows-float",
    "jsonl-overlong-line",
    "csv-overlong-line",
    "focal-tiny",
    "jsonl-focal-huge",
    "jsonl-bad-orientation",
    "jsonl-resize-without-depth",
    "orientation-without-depth",
]


@pytest.mark.parametrize(
    ("suffix", "text", "line", "fragment"),
    [pytest.param(*case, id=i) for case, i in zip(REJECTIONS, REJECTION_IDS, strict=True)],
)
def test_manifest_rejections(rgbd, tmp_path, suffix, text, line, fragment):
    manifest = rgbd / f"manifest.{suffix}"
    manifest.write_text(text.replace("{outside}", str(tmp_path / "outside.png")))
    with pytest.raises(ManifestError) as info:
        read_manifest(manifest, rgbd)
    message = str(info.value)
    assert f"{manifest}:{line}: " in message
    assert fragment in message
    assert info.value.line == line and isinstance(info.value, ValueError)
    assert pickle.loads(pickle.dumps(info.value)).args == info.value.args


def test_manifest_collects_problems(rgbd):
    rows = [f"rgb/missing{i}.png" for i in range(25)]
    manifest = rgbd / "many.csv"
    manifest.write_text("rgb\nrgb/a.png\n" + "\n".join(rows) + "\n")
    with pytest.raises(ManifestError) as info:
        read_manifest(manifest, rgbd)
    message = str(info.value)
    assert message.startswith(f"{manifest}: 25 problems:")
    assert f"{manifest}:3: " in message and f"{manifest}:22: " in message and f"{manifest}:23: " not in message
    assert "... and 5 more problem(s)" in message
    assert len(info.value.problems) == 20


def test_manifest_file_level_errors(rgbd, tmp_path):
    (rgbd / "empty.csv").write_text("\n")
    with pytest.raises(ManifestError, match="header line naming the columns"):
        read_manifest(rgbd / "empty.csv", rgbd)
    (rgbd / "list.txt").write_text("rgb\nrgb/a.png\n")
    with pytest.raises(ManifestError, match="unknown manifest format '.txt'"):
        read_manifest(rgbd / "list.txt", rgbd)
    with pytest.raises(ManifestError, match="no such manifest file"):
        read_manifest(rgbd / "nope.csv", rgbd)
    (rgbd / "ok.csv").write_text("rgb\nrgb/a.png\n")
    with pytest.raises(ManifestError, match="not an existing folder"):
        read_manifest(rgbd / "ok.csv", tmp_path / "nope")
    (rgbd / "bin.csv").write_bytes(b"rgb\n\xff\xfe\n")
    with pytest.raises(ManifestError, match="not UTF-8"):
        read_manifest(rgbd / "bin.csv", rgbd)
    (rgbd / "header-only.jsonl").write_text("")
    assert read_manifest(rgbd / "header-only.jsonl", rgbd) == []


def test_manifest_root_may_differ_from_its_folder(rgbd, tmp_path):
    manifest = tmp_path / "lists" / "train.csv"
    manifest.parent.mkdir()
    manifest.write_text("rgb,depth\nrgb/a.png,depth/a.npy\n")
    refs = read_manifest(manifest, rgbd)
    assert [r.id for r in refs] == ["nyu/rgb/a.png"] and refs[0].has_depth


# --------------------------------------------------------------------------------------------------
# CLI specs, pickling, hashing


def test_discover_every_kind(coco, diode, rgbd, tmp_path):
    assert discover(f"photos:{coco}") == photo_folder(coco)
    assert discover(str(coco)) == photo_folder(coco)
    one = discover(str(coco / "train2017" / "000000000001.jpg"))
    assert [r.id for r in one] == ["train2017/000000000001.jpg"]
    assert discover(f"photos:{coco / 'val2017' / '000000000139.jpeg'}")[0].id == "val2017/000000000139.jpeg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert discover(f"diode:{diode}") == diode_tree(diode)
    mega = tmp_path / "mega"
    _image(mega / "s" / "imgs" / "x.jpg")
    _h5(mega / "s" / "depths" / "x.h5")
    assert [r.id for r in discover(f"megadepth:{mega}")] == ["megadepth/s/imgs/x.jpg"]
    assert discover(f"rgbd:{mega}") == rgbd_tree(mega)
    assert [(r.id, Path(r.depth).name) for r in rgbd_tree(mega)] == [("mega/s/imgs/x.jpg", "x.h5")]

    (rgbd / "list.csv").write_text("rgb,depth\nrgb/a.png,depth/a.npy\n")
    assert [r.id for r in discover(f"manifest:{rgbd / 'list.csv'}")] == ["nyu/rgb/a.png"]
    elsewhere = tmp_path / "at@sign" / "list.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text("rgb\nrgb/b.jpg\n")
    assert [r.id for r in discover(f"manifest:{elsewhere}@{rgbd}")] == ["nyu/rgb/b.jpg"]
    with pytest.raises(ManifestError, match="does not exist"):
        discover(f"manifest:{elsewhere}")  # root defaults to the manifest's folder

    assert discover("synthetic:3") == synthetic(3)
    scenes = discover("synthetic:2x64x48")
    assert [r.size for r in scenes] == [(64, 48), (64, 48)] and scenes[1].load().depth.shape == (48, 64)
    assert discover("bundled") == bundled_photos()


@pytest.mark.parametrize(
    ("spec", "error", "match"),
    [
        pytest.param("dioed:/data", ValueError, "unknown input kind 'dioed'.*photos, rgbd, diode", id="unknown-kind"),
        pytest.param("synthetic:ten", ValueError, "bad synthetic spec", id="synthetic-word"),
        pytest.param("synthetic:3x64", ValueError, "bad synthetic spec", id="synthetic-one-side"),
        pytest.param("synthetic:3x1x1", ValueError, "at least 2x2", id="synthetic-too-small"),
        pytest.param("photos:", ValueError, "needs an argument", id="empty-arg"),
        pytest.param("bundled:x", ValueError, "takes no argument", id="bundled-arg"),
        pytest.param("no/such/folder", FileNotFoundError, "neither an existing path", id="missing-path"),
        pytest.param("diode:/no/such/diode", FileNotFoundError, "does not exist", id="missing-root"),
        pytest.param("rgbd:/no/such/rgbd", FileNotFoundError, "does not exist", id="missing-rgbd-root"),
    ],
)
def test_discover_errors(spec, error, match):
    with pytest.raises(error, match=match):
        discover(spec)


def test_refs_are_picklable_and_hashable(coco, diode, rgbd):
    (rgbd / "list.csv").write_text("rgb,depth,scale\nrgb/a.png,depth/a.npy,0.001\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = [
            *photo_folder(coco),
            *diode_tree(diode),
            *read_manifest(rgbd / "list.csv", rgbd),
            *synthetic(2, (64, 48)),
            *bundled_photos(),
        ]
    assert pickle.loads(pickle.dumps(refs)) == refs
    assert len({hash(r) for r in refs}) == len(set(refs)) == len(refs)
    assert all(isinstance(r, SourceRef) and math.isfinite(hash(r)) for r in refs)
    assert os.fspath(Path(refs[0].rgb)) == refs[0].rgb


# --------------------------------------------------------------------------------------------------
# Symlink loops, unsupported formats, skip counts


def _loops(folder: Path) -> None:
    """A self-loop, a two-link loop and a looping folder link in `folder`."""
    (folder / "self.jpg").symlink_to(folder / "self.jpg")
    (folder / "ping.jpg").symlink_to(folder / "pong.jpg")
    (folder / "pong.jpg").symlink_to(folder / "ping.jpg")
    (folder / "round").symlink_to(folder / "round", target_is_directory=True)


def test_symlink_loops_are_skipped_not_fatal(tmp_path):
    root = tmp_path / "root"
    _image(root / "real.jpg")
    _image(root / "sub" / "deep.jpg")
    _loops(root / "sub")
    report = DiscoveryReport()
    with pytest.warns(SkippedInputsWarning) as record:
        refs = photo_folder(root, report=report)
    assert [r.id for r in refs] == ["root/real.jpg", "root/sub/deep.jpg"]
    assert _skipped(record) == {"symlink loop": ["sub/ping.jpg", "sub/pong.jpg", "sub/round", "sub/self.jpg"]}
    assert report.skipped == {"root": {"symlink loop": 4}}
    # The same in the RGB-D layouts, which walk folders the same way.
    mega = tmp_path / "mega"
    _image(mega / "imgs" / "x.jpg")
    _h5(mega / "depths" / "x.h5")
    _loops(mega / "imgs")
    with pytest.warns(SkippedInputsWarning, match="symlink loop"):
        assert [r.id for r in megadepth_tree(mega)] == ["megadepth/imgs/x.jpg"]


def test_manifest_row_through_a_symlink_loop_is_a_line_problem(rgbd):
    _loops(rgbd / "rgb")
    manifest = rgbd / "loops.csv"
    manifest.write_text("rgb,depth\nrgb/a.png,depth/a.npy\nrgb/ping.jpg,\nrgb/round/a.png,\nrgb/a.png,rgb/self.jpg\n")
    with pytest.raises(ManifestError) as info:
        read_manifest(manifest, rgbd)
    assert [ln for ln, _ in info.value.problems] == [3, 4, 5]
    assert all("cannot be resolved: symlink loop" in text for _, text in info.value.problems)
    assert "depth path 'rgb/self.jpg'" in info.value.problems[2][1]


def test_loop_as_collection_root(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop", target_is_directory=True)
    with pytest.raises(FileNotFoundError, match="broken symlink or a symlink loop"):
        photo_folder(tmp_path / "loop")


def test_unsupported_image_formats_are_reported(coco):
    (coco / "train2017" / "phone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (coco / "train2017" / "sub" / "PHONE2.HEIF").write_bytes(b"x")
    (coco / "val2017" / "anim.gif").write_bytes(b"GIF89a")
    (coco / "val2017" / "raw.dng").write_bytes(b"x")
    report = DiscoveryReport()
    with pytest.warns(SkippedInputsWarning) as record:
        refs = photo_folder(coco, exclude=("val2017/raw.dng",), report=report)
    assert len(refs) == 4  # the readable photos; README.txt and annotations/*.json are not image-like
    assert _skipped(record) == {
        "unsupported format": ["train2017/phone.heic", "train2017/sub/PHONE2.HEIF", "val2017/anim.gif"]
    }
    assert report.skipped == {"coco": {"unsupported format": 3}} and report.total == 3


def test_discovery_report_collects_every_spec(coco, diode, tmp_path):
    (coco / "x.avif").write_bytes(b"x")
    report = DiscoveryReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the counts do not depend on the warnings being shown
        discover(f"photos:{coco}", report=report)
        discover(str(coco), report=report)
        discover(f"diode:{diode}", report=report)
        discover("synthetic:2", report=report)
    assert report.skipped == {
        "coco": {"unsupported format": 2},
        "diode": {"PNG without X_depth.npy": 1, "depth map without X.png": 1},
    }
    assert report.by_reason() == {"PNG without X_depth.npy": 1, "depth map without X.png": 1, "unsupported format": 2}
    assert report.total == 4
    assert json.loads(json.dumps(report.skipped)) == report.skipped  # ready for stats.json


# --------------------------------------------------------------------------------------------------
# depth_orientation / depth_resize: manifest columns, discovery options, CLI flags


def test_source_ref_depth_options_default_and_validate():
    ref = SourceRef(id="x", rgb="a.png", depth="d.npy")
    fields = dataclasses.asdict(ref)
    assert fields["depth_resize"] == "error" and fields["depth_orientation"] is None
    assert pickle.loads(pickle.dumps(ref)) == ref
    with pytest.raises(ValueError, match="depth_resize"):
        SourceRef(id="x", rgb="a.png", depth="d.npy", depth_resize="bilinear")
    with pytest.raises(ValueError, match="depth_orientation"):
        SourceRef(id="x", rgb="a.png", depth="d.npy", depth_orientation="upright")


def test_depth_options_from_manifest_columns_and_defaults(rgbd):
    np.save(rgbd / "depth" / "half.npy", np.full((H // 2, W // 2), 2.0, np.float32))
    manifest = rgbd / "m.csv"
    manifest.write_text(
        "rgb,depth,id,depth_resize,depth_orientation\n"
        "rgb/a.png,depth/half.npy,row-says,nearest,stored\n"
        "rgb/a.png,depth/half.npy,default,,\n"
        "rgb/b.jpg,,rgb-only,,\n"
    )
    default, rgb_only, row = read_manifest(manifest, rgbd)
    assert (row.depth_resize, row.depth_orientation) == ("nearest", "stored")
    assert (default.depth_resize, default.depth_orientation) == ("error", None)
    assert row.load().depth.shape == (H, W)
    with pytest.raises(SizeMismatch, match="--depth-resize nearest"):
        default.load()
    # Collection-wide defaults (the CLI flags) fill rows with depth that leave the columns empty.
    refs = {r.id: r for r in discover(f"manifest:{manifest}", depth_orientation="display", depth_resize="nearest")}
    assert (refs["default"].depth_resize, refs["default"].depth_orientation) == ("nearest", "display")
    assert (refs["row-says"].depth_resize, refs["row-says"].depth_orientation) == ("nearest", "stored")
    assert (refs["rgb-only"].depth_resize, refs["rgb-only"].depth_orientation) == ("error", None)
    assert refs["default"].load().depth.shape == (H, W)


def test_depth_options_reach_diode_and_megadepth_refs(diode, tmp_path):
    mega = tmp_path / "mega"
    _image(mega / "imgs" / "x.jpg")
    _h5(mega / "depths" / "x.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in (f"diode:{diode}", f"megadepth:{mega}"):
            refs = discover(spec, depth_orientation="display", depth_resize="nearest")
            assert refs and all((r.depth_orientation, r.depth_resize) == ("display", "nearest") for r in refs)
    with pytest.raises(ValueError, match="depth_resize must be one of"):
        discover(f"megadepth:{mega}", depth_resize="bicubic")


def test_rgbd_layouts_that_pair_nothing_raise(diode, tmp_path):
    """An RGB-D layout whose selection pairs nothing is an error (tests/sources/test_rgbd_input.py has the texts);
    a photo folder that selects nothing only warns (test_photo_folder_bad_patterns_and_roots)."""
    for layout in (diode_tree, megadepth_tree, rgbd_tree):
        with pytest.raises(NoSourcesMatched, match="matched no sources; expected .*; found 7 file"):
            layout(diode, include=("nothing/**",))
    _image(diode / "x.jpg")
    with pytest.warns(SkippedInputsWarning) as record:
        diode_tree(diode)
    assert _skipped(record)["image not a PNG (DIODE images are X.png)"] == ["x.jpg"]


def test_diode_focal_must_be_plausible_for_some_width(diode):
    for focal in (1e-300, 1e300):
        with pytest.raises(ImplausibleFocal, match=re.escape(f"focal_px={focal!r} gives no horizontal field of view")):
            diode_tree(diode, focal_px=focal)


def test_generate_flags_pass_depth_options_to_discovery(rgbd, tmp_path, monkeypatch):
    from spatial_ssrl.cli import build_parser, main
    from spatial_ssrl.sources.load import DEPTH_ORIENTATIONS, DEPTH_RESIZE_POLICIES

    # The flags' literal choices are the sources layer's (the CLI does not import it to build --help).
    for flag, values in (("--depth-orientation", DEPTH_ORIENTATIONS), ("--depth-resize", DEPTH_RESIZE_POLICIES)):
        for value in values:
            build_parser().parse_args(["generate", "out", flag, value])
        action = next(
            a
            for a in build_parser()._subparsers._group_actions[0].choices["generate"]._actions
            if flag in a.option_strings
        )
        assert tuple(action.choices) == values

    seen = []

    def fake_build(config, sources, **kwargs):  # the build itself is tested in tests/dataset
        seen.extend(sources)
        keys = ("samples", "per_task", "per_split", "shortfall", "rejections", "seconds", "samples_per_second")
        return {k: 0 for k in keys}

    monkeypatch.setattr("spatial_ssrl.dataset.builder.build", fake_build)
    (rgbd / "list.csv").write_text("rgb,depth\nrgb/a.png,depth/a.npy\n")
    argv = ["generate", str(tmp_path / "out"), "--inputs", f"manifest:{rgbd / 'list.csv'}"]
    assert main([*argv, "--depth-orientation", "display", "--depth-resize", "nearest"]) == 0
    assert [(r.depth_orientation, r.depth_resize) for r in seen] == [("display", "nearest")]
    seen.clear()
    assert main(argv) == 0
    assert [(r.depth_orientation, r.depth_resize) for r in seen] == [(None, "error")]
    assert main([*argv, "--depth-resize", "bilinear"]) == 2


def test_a_csv_row_spanning_many_lines_is_bounded(tmp_path):
    """A quoted field may hold newlines: the row, not each line, is held to MAX_MANIFEST_LINE_CHARS."""
    from spatial_ssrl.sources.discover import MAX_MANIFEST_LINE_CHARS, ManifestError, read_manifest

    manifest = tmp_path / "m.csv"
    body = ("x" * 1000 + "\n") * (MAX_MANIFEST_LINE_CHARS // 1000 + 5)
    manifest.write_text(f'rgb,depth\n"{body}",d.npy\n')
    with pytest.raises(ManifestError, match="row longer than"):
        read_manifest(manifest, tmp_path)
