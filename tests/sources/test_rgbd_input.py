"""`rgbd:DIR` input: images paired with depth (and masks) by naming convention, the one-line error of an RGB-D
spec that matches nothing, depth-like files a photo folder ignores, symlinks. Every layout is made in tmp_path."""

from __future__ import annotations

import dataclasses
import pickle
import random
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from spatial_ssrl.sources.discover import (
    DEPTH_LIKE_REASON,
    DIODE_FOCAL_PX,
    PNG_DEPTH_SCALE,
    DiscoveryReport,
    NoSourcesMatched,
    SkippedInputsWarning,
    diode_tree,
    discover,
    megadepth_tree,
    photo_folder,
    rgbd_tree,
)

W, H = 8, 6
SYMLINKS = "symlinks: linked folders inside the root are not followed"


def _image(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)).save(path)
    return path


def _depth(path: Path, value: float = 2.0) -> Path:
    """A depth map at `path` in the format its suffix names, `value` metres everywhere but (0, 0), which is 0."""
    path.parent.mkdir(parents=True, exist_ok=True)
    depth = np.full((H, W), value, np.float32)
    depth[0, 0] = 0
    suffix = path.suffix.lower()
    if suffix == ".npy":
        np.save(path, depth[..., None])  # DIODE stores H x W x 1
    elif suffix == ".npz":
        np.savez(path, depth=depth)
    elif suffix in (".h5", ".hdf5"):
        with h5py.File(path, "w") as f:
            f.create_dataset("depth", data=depth)
    elif suffix == ".png":  # 16-bit millimetres
        Image.fromarray(np.round(depth * 1000).astype(np.uint16)).save(path)
    else:
        raise AssertionError(suffix)
    return path


def _mask(path: Path) -> Path:
    """A mask at `path` (.npy or .png) that invalidates the last row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mask = np.ones((H, W), np.uint8)
    mask[-1] = 0
    if path.suffix == ".npy":
        np.save(path, mask)
    else:
        Image.fromarray(mask * 255).save(path)
    return path


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _skipped(record) -> dict[str, list[str]]:
    return {w.message.reason: w.message.paths for w in record if isinstance(w.message, SkippedInputsWarning)}


def _pairs(refs, root: Path) -> dict[str, tuple[str, str | None]]:
    """{image relative to root: (depth relative to root, mask relative to root or None)}."""
    base = root.resolve()

    def rel(p: str | None) -> str | None:
        return None if p is None else Path(p).relative_to(base).as_posix()

    return {rel(r.rgb): (rel(r.depth), rel(r.mask)) for r in refs}


# --------------------------------------------------------------------------------------------------
# Pairing, one naming convention at a time


@pytest.mark.parametrize("fmt", [".npy", ".npz", ".h5", ".hdf5", ".png"])
@pytest.mark.parametrize("with_mask", [False, True], ids=["no-mask", "mask"])
def test_x_with_x_depth_beside_it(tmp_path, fmt, with_mask):
    root = tmp_path / "shots"
    _image(root / "kitchen" / "0001.jpg")
    _depth(root / "kitchen" / f"0001_depth{fmt}", 1.5)
    if with_mask:
        _mask(root / "kitchen" / "0001_depth_mask.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # everything pairs: nothing to report
        (ref,) = rgbd_tree(root)
    assert ref.id == "shots/kitchen/0001.jpg"
    assert _pairs([ref], root) == {
        "kitchen/0001.jpg": (f"kitchen/0001_depth{fmt}", "kitchen/0001_depth_mask.npy" if with_mask else None)
    }
    assert ref.depth_scale == (PNG_DEPTH_SCALE if fmt == ".png" else None)
    assert ref.depth_key == ("depth" if fmt in (".h5", ".hdf5") else None)
    assert ref.focal_px is None
    src = ref.load()
    assert src.depth.shape == (H, W) and np.nanmax(src.depth) == pytest.approx(1.5)  # PNG millimetres -> metres
    assert not src.valid[0, 0]  # 0 = invalid in every format
    assert src.valid[-1].all() != with_mask  # the mask invalidates the last row


def test_a_second_format_of_the_same_depth_map_is_reported(tmp_path):
    root = tmp_path / "shots"
    _image(root / "a.png")
    _depth(root / "a_depth.png")  # e.g. a 16-bit export next to the array
    _depth(root / "a_depth.npy")
    _depth(root / "a_depth.h5")
    with pytest.warns(SkippedInputsWarning) as record:
        refs = rgbd_tree(root)
    assert _pairs(refs, root) == {"a.png": ("a_depth.npy", None)}  # .npy is preferred to .h5 and .png
    assert _skipped(record) == {
        "second depth map of an image (the first of .npy, .npz, .h5, .hdf5, .png is used)": [
            "a_depth.h5",
            "a_depth.png",
        ]
    }


def test_names_with_the_image_word_replaced_by_depth(tmp_path):
    root = tmp_path / "source_imgs"
    # The authors' sample files (InternLM/Spatial-SSRL data_process/source_imgs).
    _image(root / "RGB-D_img3.png")
    _depth(root / "RGB-D_depth3.npy", 3.0)
    _mask(root / "RGB-D_depth_mask3.npy")
    _image(root / "rgb_0001.jpg")  # NYU-style exports
    _depth(root / "depth_0001.png")
    _image(root / "seq-01" / "frame-000000.color.png")  # 7-Scenes
    _depth(root / "seq-01" / "frame-000000.depth.png")
    _image(root / "0002_Image.JPG")  # names are compared without regard to case
    _depth(root / "0002_DEPTH.npz")
    _image(root / "0003_colour.jpg")
    _depth(root / "0003_depth.h5")
    _mask(root / "0003_depth_mask.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refs = rgbd_tree(root)
    assert _pairs(refs, root) == {
        "0002_Image.JPG": ("0002_DEPTH.npz", None),
        "0003_colour.jpg": ("0003_depth.h5", "0003_depth_mask.png"),
        "RGB-D_img3.png": ("RGB-D_depth3.npy", "RGB-D_depth_mask3.npy"),
        "rgb_0001.jpg": ("depth_0001.png", None),
        "seq-01/frame-000000.color.png": ("seq-01/frame-000000.depth.png", None),
    }
    authors = next(r for r in refs if r.id == "source_imgs/RGB-D_img3.png")
    src = authors.load()
    assert np.nanmax(src.depth) == 3.0 and not src.valid[-1].any() and src.valid.sum() == H * W - W - 1


def test_words_are_bounded(tmp_path):
    """`depth`, `img`, ... count as words only between separators or digits: MegaDepth, watercolor and
    'Depth of field' are no depth files and no image words."""
    root = tmp_path / "MegaDepth_v1"
    _image(root / "watercolor.jpg")
    _depth(root / "waterdepth.npy")  # an array file, so depth-like, but no image's depth
    _image(root / "Depth of field.jpg", seed=1)
    with pytest.warns(SkippedInputsWarning) as record:
        refs = photo_folder(root)
    assert [r.id for r in refs] == ["MegaDepth_v1/Depth of field.jpg", "MegaDepth_v1/watercolor.jpg"]
    assert _skipped(record) == {DEPTH_LIKE_REASON: ["waterdepth.npy"]}
    with pytest.raises(NoSourcesMatched, match="image without a depth map: 2"):
        rgbd_tree(root)


def test_image_folders_with_depth_folders(tmp_path):
    root = tmp_path / "scans"
    _image(root / "scene_a" / "imgs" / "x.jpg")  # MegaDepth-style folders, any depth format
    _depth(root / "scene_a" / "depths" / "x.npy")
    _mask(root / "scene_a" / "depths" / "x_mask.npy")
    _image(root / "scene_b" / "rgb" / "000.png")  # rgb/ + depth/, 16-bit PNG with a PNG mask
    _depth(root / "scene_b" / "depth" / "000.png")
    _mask(root / "scene_b" / "depth" / "000_mask.png")
    _image(root / "scene_c" / "Images" / "y.jpg")
    _depth(root / "scene_c" / "depths" / "y_depth.h5")
    _image(root / "scene_d" / "color" / "rgb_7.jpg")  # both folder and name say so
    _depth(root / "scene_d" / "depth" / "depth_7.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refs = rgbd_tree(root)
    assert _pairs(refs, root) == {
        "scene_a/imgs/x.jpg": ("scene_a/depths/x.npy", "scene_a/depths/x_mask.npy"),
        "scene_b/rgb/000.png": ("scene_b/depth/000.png", "scene_b/depth/000_mask.png"),
        "scene_c/Images/y.jpg": ("scene_c/depths/y_depth.h5", None),
        "scene_d/color/rgb_7.jpg": ("scene_d/depth/depth_7.npz", None),
    }
    assert [r.id for r in refs] == sorted(f"scans/{k}" for k in _pairs(refs, root))
    src = next(r for r in refs if r.id == "scans/scene_b/rgb/000.png").load()
    assert np.nanmax(src.depth) == pytest.approx(2.0) and not src.valid[-1].any()


def test_a_diode_tree_pairs_as_diode_does(tmp_path):
    root = tmp_path / "val"
    stems = [
        "outdoor/scene_00022/scan_00193/00022_00193_outdoor_000_010",
        "indoors/scene_00019/scan_00183/00019_00183_indoors_000_010",
    ]
    for i, stem in enumerate(stems):
        _image(root / f"{stem}.png", seed=i)
        _depth(root / f"{stem}_depth.npy")
    _mask(root / f"{stems[0]}_depth_mask.npy")
    _image(root / "renamed" / "sample.png")  # DIODE data under another name: paired, but no focal length
    _depth(root / "renamed" / "sample_depth.npy")
    diode = {r.rgb: r for r in diode_tree(root)}
    rgbd = rgbd_tree(root, depth_orientation="display")
    assert sorted(r.rgb for r in rgbd) == sorted(diode) and len(rgbd) == 3
    for ref in rgbd:
        same = dataclasses.replace(ref, id=diode[ref.rgb].id, depth_orientation=None)
        if ref.id == "val/renamed/sample.png":  # diode: gives every pair DIODE's focal, rgbd: DIODE names only
            assert ref.focal_px is None and same == dataclasses.replace(diode[ref.rgb], focal_px=None)
        else:
            assert same == diode[ref.rgb] and ref.focal_px == DIODE_FOCAL_PX  # depth, mask, focal as diode: gives
    assert all(r.depth_orientation == "display" for r in rgbd)


def test_a_megadepth_tree_pairs_as_megadepth_does(tmp_path):
    root = tmp_path / "MegaDepth"
    scene = root / "phoenix/S6/zl548/MegaDepth_v1/0001/dense0"
    for i, stem in enumerate(["1234_abc", "5678"]):
        _image(scene / "imgs" / f"{stem}.jpg", seed=i)
        _depth(scene / "depths" / f"{stem}.h5")
    mega = megadepth_tree(root)
    rgbd = rgbd_tree(root, name="megadepth")
    assert rgbd == mega and len(rgbd) == 2  # same ids (name given), depth files, key `depth`, no focal
    assert rgbd[0].load().has_depth


def test_unmatched_files_are_reported_and_counted(tmp_path):
    root = tmp_path / "mixed"
    _image(root / "a.jpg")
    _depth(root / "a_depth.npy")
    _image(root / "lonely.jpg")  # (no_depth.jpg would be the depth map of an image `no`)
    _depth(root / "orphan_depth.npy")
    _image(root / "b_depth.tif")  # a depth-like name in a format rgbd: does not pair
    (root / "phone.heic").write_bytes(b"x")
    (root / "notes.txt").write_text("not an image")
    report = DiscoveryReport()
    with pytest.warns(SkippedInputsWarning) as record:
        refs = discover(f"rgbd:{root}", report=report)
    assert [r.id for r in refs] == ["mixed/a.jpg"]
    assert _skipped(record) == {
        "depth-like file paired with no image": ["b_depth.tif", "orphan_depth.npy"],
        "image without a depth map": ["lonely.jpg"],
        "unsupported format": ["phone.heic"],
    }
    assert report.skipped == {
        "mixed": {"depth-like file paired with no image": 2, "image without a depth map": 1, "unsupported format": 1}
    }
    only = _quiet(rgbd_tree, root, include=("a*",))  # include / exclude select files as in photo_folder
    assert [r.id for r in only] == ["mixed/a.jpg"]


def _layout(root: Path, order: list[int]) -> None:
    """The same mixed RGB-D collection, its files written in `order`."""
    makers = [
        lambda: _image(root / "z.jpg"),
        lambda: _depth(root / "z_depth.npy"),
        lambda: _image(root / "A" / "imgs" / "b.jpg"),
        lambda: _depth(root / "A" / "depths" / "b.h5"),
        lambda: _image(root / "A" / "imgs" / "a.jpg"),
        lambda: _depth(root / "A" / "depths" / "a.png"),
        lambda: _depth(root / "A" / "depths" / "a.npy"),
        lambda: _image(root / "m_img1.png"),
        lambda: _depth(root / "m_depth1.npy"),
        lambda: _image(root / "B.jpg"),
        lambda: _depth(root / "B_depth.npz"),
        lambda: _image(root / "lonely.jpg"),
    ]
    for i in order:
        makers[i]()


def test_discovered_order_and_pairs_are_deterministic(tmp_path):
    runs = []
    for k in range(3):
        order = list(range(12))
        random.Random(k).shuffle(order)
        root = tmp_path / f"copy{k}" / "data"
        _layout(root, order)
        refs = _quiet(rgbd_tree, root)
        runs.append(([r.id for r in refs], _pairs(refs, root)))
        assert _quiet(rgbd_tree, root) == refs  # the same call twice
    ids, pairs = runs[0]
    assert ids == sorted(ids) and len(ids) == 5
    assert all(run == runs[0] for run in runs)
    assert pairs["A/imgs/a.jpg"] == ("A/depths/a.npy", None)


# --------------------------------------------------------------------------------------------------
# A folder that matches nothing: one line saying what was expected and what was found


@pytest.fixture
def layouts(tmp_path) -> dict[str, Path]:
    mega = tmp_path / "mega"
    _image(mega / "s" / "imgs" / "a.jpg")
    _depth(mega / "s" / "depths" / "a.h5")
    _image(mega / "s" / "imgs" / "b.jpg")
    _depth(mega / "s" / "depths" / "b.h5")
    diode = tmp_path / "diode"
    _image(diode / "00019_00183_indoors_000_010.png")
    _depth(diode / "00019_00183_indoors_000_010_depth.npy")
    authors = tmp_path / "source_imgs"
    _image(authors / "RGB-D_img3.png")
    _depth(authors / "RGB-D_depth3.npy")
    _mask(authors / "RGB-D_depth_mask3.npy")
    photos = tmp_path / "photos"
    _image(photos / "a.jpg")
    _image(photos / "b.jpg")
    (photos / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    return {"mega": mega, "diode": diode, "authors": authors, "photos": photos, "empty": tmp_path / "empty"}


@pytest.mark.parametrize(
    ("kind", "folder", "fragments"),
    [
        pytest.param(
            "diode",
            "mega",
            [
                "expected X.png with X_depth.npy in the same folder (+ X_depth_mask.npy)",
                "2 image(s), 2 depth-like (2 .h5), 0 other",
                "image not a PNG (DIODE images are X.png): 2 (e.g. s/imgs/a.jpg, s/imgs/b.jpg)",
                "try megadepth:{root} (2 image(s) paired) or rgbd:{root} (2 image(s) paired)",
            ],
            id="diode-on-megadepth",
        ),
        pytest.param(
            "megadepth",
            "diode",
            [
                "expected <scene>/imgs/X.<image> with <scene>/depths/X.h5",
                "found 2 file(s) under {real}: 1 image(s), 1 depth-like (1 .npy), 0 other",
                "image not in an `imgs` folder: 1 (e.g. 00019_00183_indoors_000_010.png)",
                "try diode:{root} (1 image(s) paired) or rgbd:{root} (1 image(s) paired)",
            ],
            id="megadepth-on-diode",
        ),
        pytest.param(
            "diode",
            "authors",
            [
                "1 image(s), 2 depth-like (2 .npy), 0 other",
                "PNG without X_depth.npy: 1 (e.g. RGB-D_img3.png)",
                "try rgbd:{root} (1 image(s) paired)",
            ],
            id="diode-on-authors-samples",
        ),
        pytest.param(
            "rgbd",
            "photos",
            [
                "expected an image X.<image> with X_depth.<npy|npz|h5|hdf5|png> beside it",
                "3 file(s) under {real}: 2 image(s), 0 depth-like, 1 other",
                "image without a depth map: 2 (e.g. a.jpg, b.jpg)",
                "photos:{root} reads the 2 image(s) without depth; a manifest (manifest:FILE@ROOT) pairs files",
            ],
            id="rgbd-on-photos",
        ),
        pytest.param("rgbd", "empty", ["found 0 file(s)", "0 image(s), 0 depth-like, 0 other"], id="rgbd-on-empty"),
    ],
)
def test_a_folder_that_matches_nothing_says_what_it_expected_and_found(layouts, kind, folder, fragments):
    root = layouts[folder]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error says it all: no warnings before it
        with pytest.raises(NoSourcesMatched) as info:
            discover(f"{kind}:{root}")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{kind}:{root} matched no sources; expected ")
    for fragment in fragments:
        assert fragment.format(root=root, real=root.resolve()) in message
    assert message.endswith("give a folder kept elsewhere as a spec of its own)") and SYMLINKS in message
    assert isinstance(info.value, ValueError) and info.value.spec == f"{kind}:{root}"
    err = pickle.loads(pickle.dumps(info.value))
    assert str(err) == message and err.found == info.value.found


def test_the_error_is_one_line_through_the_cli(layouts, tmp_path, capsys):
    from spatial_ssrl.cli import main

    out = tmp_path / "out"
    for spec in (f"diode:{layouts['mega']}", f"rgbd:{layouts['photos']}", f"megadepth:{layouts['authors']}"):
        assert main(["generate", str(out), "--inputs", f"rgbd:{layouts['mega']}", spec]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"error: {spec} matched no sources; expected ")
        assert "Traceback" not in err and SYMLINKS in err
    assert not out.exists()  # refused before anything was written


# --------------------------------------------------------------------------------------------------
# Depth-like files in a photo folder


def test_a_photo_folder_counts_the_depth_files_it_ignores(tmp_path):
    root = tmp_path / "rgbd_as_photos"
    _image(root / "a.jpg")
    _depth(root / "a_depth.npy")
    _mask(root / "a_depth_mask.npy")
    _image(root / "b.jpg")
    _depth(root / "b_depth.png")  # 16-bit PNG named depth: not a photo
    _image(root / "s" / "imgs" / "c.jpg")
    _depth(root / "s" / "depths" / "c.png")  # a PNG in a depth folder
    _depth(root / "s" / "depths" / "d.h5")
    (root / "readme.txt").write_text("x")
    report = DiscoveryReport()
    with pytest.warns(SkippedInputsWarning) as record:
        refs = discover(str(root), report=report)
    assert [r.id for r in refs] == ["rgbd_as_photos/a.jpg", "rgbd_as_photos/b.jpg", "rgbd_as_photos/s/imgs/c.jpg"]
    ignored = ["a_depth.npy", "a_depth_mask.npy", "b_depth.png", "s/depths/c.png", "s/depths/d.h5"]
    assert _skipped(record) == {DEPTH_LIKE_REASON: ignored}
    (warning,) = [w.message for w in record if isinstance(w.message, SkippedInputsWarning)]
    assert str(warning).startswith(f"rgbd_as_photos: skipped 5 file(s): {DEPTH_LIKE_REASON}: ")
    assert report.skipped == {"rgbd_as_photos": {DEPTH_LIKE_REASON: 5}}
    # The same folder as rgbd: pairs them.
    assert _pairs(_quiet(discover, f"rgbd:{root}"), root) == {
        "a.jpg": ("a_depth.npy", "a_depth_mask.npy"),
        "b.jpg": ("b_depth.png", None),
        "s/imgs/c.jpg": ("s/depths/c.png", None),
    }
    # Patterns select what is reported too.
    with pytest.warns(SkippedInputsWarning) as record:
        photo_folder(root, include=("a*",))
    assert _skipped(record) == {DEPTH_LIKE_REASON: ["a_depth.npy", "a_depth_mask.npy"]}


# --------------------------------------------------------------------------------------------------
# Symlinks: the same policy as every folder walk, stated in the error


def test_rgbd_symlinks(tmp_path):
    data = tmp_path / "data"
    _image(data / "a.jpg")
    _depth(data / "a_depth.npy")
    elsewhere = tmp_path / "elsewhere"
    _image(elsewhere / "b.jpg")
    _depth(elsewhere / "b_depth.npy")
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked").symlink_to(data, target_is_directory=True)  # a linked folder: not followed
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NoSourcesMatched) as info:
            rgbd_tree(root)
    message = str(info.value)
    assert "found 0 file(s)" in message and "symlinked folder (not followed): 1 (e.g. linked)" in message
    assert SYMLINKS in message and "the root itself may be a link" in message
    # The root itself may be a link; linked files inside the root are used, linked files outside it are not.
    (tmp_path / "link_root").symlink_to(data, target_is_directory=True)
    assert [r.id for r in rgbd_tree(tmp_path / "link_root")] == ["link_root/a.jpg"]
    _image(root / "c.jpg")
    (root / "c_depth.npy").symlink_to(data / "a_depth.npy")  # outside root: refused
    _image(root / "d.jpg")
    _depth(root / "store" / "d.npy")
    (root / "d_depth.npy").symlink_to(root / "store" / "d.npy")  # inside root: used, as its target
    with pytest.warns(SkippedInputsWarning) as record:
        refs = rgbd_tree(root)
    assert _pairs(refs, root) == {"d.jpg": ("store/d.npy", None)}
    skipped = _skipped(record)
    assert skipped["symlink resolving outside the root"] == ["c_depth.npy"]
    assert skipped["image without a depth map"] == ["c.jpg"]
    assert skipped["symlinked folder (not followed)"] == ["linked"]


def test_rgbd_options_are_checked(tmp_path):
    _image(tmp_path / "r" / "a.jpg")
    _depth(tmp_path / "r" / "a_depth.png")
    with pytest.raises(ValueError, match="png_depth_scale"):
        rgbd_tree(tmp_path / "r", png_depth_scale=0)
    with pytest.raises(ValueError, match="depth_resize must be one of"):
        discover(f"rgbd:{tmp_path / 'r'}", depth_resize="bicubic")
    (ref,) = rgbd_tree(tmp_path / "r", png_depth_scale=1 / 256, name="kitti")
    assert ref.id == "kitti/a.jpg" and ref.depth_scale == 1 / 256
    with pytest.raises(FileNotFoundError, match="does not exist"):
        discover(f"rgbd:{tmp_path / 'missing'}")
