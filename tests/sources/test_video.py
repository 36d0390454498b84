"""Video sources: exact frames by index, limits checked before decoding, and a typed error for every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spatial_ssrl.sources.discover import SourceRef, discover
from spatial_ssrl.sources.synthetic import camera_pose, make_scene, render_view
from spatial_ssrl.sources.video import (
    TruncatedVideo,
    VariableFrameRate,
    VideoError,
    VideoLimits,
    VideoTooLarge,
    open_frame_folder,
    open_posed_sequence,
    open_video,
    probe_video,
    synthetic_path,
)
from tests.fixtures.videos import pan_frames, write_video

pytest.importorskip("av")


@pytest.fixture(scope="module")
def lossless(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    frames = pan_frames(40)
    return write_video(tmp_path_factory.mktemp("v") / "pan.mkv", frames, codec="ffv1", pix_fmt="bgr0"), frames


def test_frames_come_back_exactly_by_index_in_any_order(lossless):
    path, frames = lossless
    video = open_video(path)
    assert (video.n_frames, video.width, video.height, video.fps) == (40, 96, 64, 8.0)
    wanted = [39, 0, 17, 17, 5, 38]
    assert all(np.array_equal(got, frames[i]) for got, i in zip(video.frames(wanted), wanted))


def test_far_frames_are_reached_by_seeking_with_the_same_result(lossless):
    path, frames = lossless
    seeking = open_video(path, limits=VideoLimits(seek_after_s=0.01))  # seek for every frame
    assert all(np.array_equal(a, frames[i]) for a, i in zip(seeking.frames([3, 30, 31, 35]), [3, 30, 31, 35]))


def test_max_side_downscales_every_frame(lossless):
    video = open_video(lossless[0], max_side=48)
    assert (video.width, video.height) == (48, 32)
    assert video.frames([7])[0].shape == (32, 48, 3)


@pytest.mark.parametrize("codec,suffix", [("libx264", ".mp4"), ("libvpx", ".webm"), ("mpeg4", ".mkv")])
def test_common_containers_open(tmp_path, codec, suffix):
    frames = pan_frames(12)
    video = open_video(write_video(tmp_path / f"v{suffix}", frames, codec=codec))
    assert video.n_frames == 12
    got = video.frames([6])[0].astype(int)
    # Lossy, but nearer the right frame than the next one.
    assert np.abs(got - frames[6]).mean() < np.abs(got - frames[7]).mean()


def test_a_variable_frame_rate_is_refused_with_its_numbers(tmp_path):
    pts = [i * 100 + (40 if i % 3 == 0 else 0) for i in range(12)]
    path = write_video(tmp_path / "vfr.mp4", pan_frames(12), pts=pts)
    with pytest.raises(VariableFrameRate, match="variable frame rate.*spread"):
        probe_video(path)


@pytest.mark.parametrize(
    "content,match",
    [(b"", "empty file"), (b"not a video at all" * 50, "cannot be read as a video"), (b"\x00" * 4096, "cannot be")],
)
def test_garbage_is_a_video_error(tmp_path, content, match):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=match):
        open_video(path)


def test_a_truncated_file_is_refused_or_stops_with_a_typed_error(tmp_path):
    path = write_video(tmp_path / "t.mkv", pan_frames(40), codec="ffv1", pix_fmt="bgr0")
    data = path.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 6 // 10])
    try:
        video = open_video(cut)
    except VideoError:
        return  # refused when opened: fine
    assert video.n_frames < 40  # the scan counts only the frames that are there
    video.frames([video.n_frames - 1])  # ... and each of them decodes


def test_a_listed_frame_that_cannot_be_decoded_is_truncated_video(lossless, tmp_path):
    path, _ = lossless
    video = open_video(path)
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    import dataclasses

    from spatial_ssrl.sources import video as video_module

    # The metadata of the whole file, the bytes of a third of it: the late frames are missing.
    reader = video_module._video_reader(broken, probe_video(path), (96, 64), VideoLimits())
    cut = dataclasses.replace(video, read_frames=reader)
    with pytest.raises(TruncatedVideo):
        cut.frames([39])


@pytest.mark.parametrize(
    "limits,match",
    [
        (VideoLimits(max_frame_pixels=96 * 64 - 1), "exceed the limit of"),
        (VideoLimits(max_frames=10), "frames"),
        (VideoLimits(max_seconds=2.0), "exceeds the limit"),
        (VideoLimits(max_file_bytes=100), "bytes exceeds"),
    ],
)
def test_limits_are_checked_before_decoding(lossless, limits, match, monkeypatch):
    path, _ = lossless
    import av

    def no_decoding(*args, **kwargs):
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(av.container.InputContainer, "decode", no_decoding)
    with pytest.raises(VideoTooLarge, match=match):
        probe_video(path, limits)


def test_too_few_frames(tmp_path):
    with pytest.raises(VideoError, match="at least 2"):
        open_video(write_video(tmp_path / "one.mp4", pan_frames(1)))


def test_frame_folder_reads_in_natural_order_and_checks_sizes(tmp_path):
    from PIL import Image

    frames = pan_frames(12)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / f"frame{i}.png")
    seq = open_frame_folder(tmp_path)
    assert seq.n_frames == 12
    assert np.array_equal(seq.frames([10])[0], frames[10])  # frame10 after frame9, not after frame1
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "frame12.png")
    seq = open_frame_folder(tmp_path)
    with pytest.raises(VideoError, match="the sequence's first is 96x64"):
        seq.frames([12])


def _posed_folder(root: Path, n: int = 6, depth_size: tuple[int, int] | None = None) -> Path:
    from PIL import Image

    for sub in ("color", "depth", "pose", "intrinsic"):
        (root / sub).mkdir(parents=True)
    w, h = 64, 48
    for i in range(n):
        pose = camera_pose((0.1 * i, 0.0, 0.0), 0.0, 10.0)
        view = render_view(3, w, h, pose)
        Image.fromarray(view.rgb).save(root / "color" / f"{i}.jpg")
        depth_mm = np.nan_to_num(view.depth * 1000, nan=0).astype(np.uint16)
        img = Image.fromarray(depth_mm)
        if depth_size:
            img = img.resize(depth_size, Image.Resampling.NEAREST)
        img.save(root / "depth" / f"{i}.png")
        np.savetxt(root / "pose" / f"{i}.txt", pose)
    k = np.array([[view.focal_px, 0, (w - 1) / 2], [0, view.focal_px, (h - 1) / 2], [0, 0, 1]])
    np.savetxt(root / "intrinsic" / "intrinsic_color.txt", k)
    return root


def test_posed_sequence_reads_poses_depth_and_focal(tmp_path):
    root = _posed_folder(tmp_path / "scene0000", depth_size=(32, 24))
    seq = open_posed_sequence(root)
    assert seq.n_frames == 6 and seq.poses.shape == (6, 4, 4) and seq.has_depth
    truth = render_view(3, 64, 48, camera_pose((0.2, 0.0, 0.0), 0.0, 10.0))
    assert seq.focal_px == pytest.approx(truth.focal_px)
    depth = seq.depths([2])[0]
    assert depth.shape == (48, 64)  # resized to the frame by nearest neighbour
    ok = np.isfinite(depth) & np.isfinite(truth.depth)
    assert np.nanmedian(np.abs(depth[ok] - truth.depth[ok]) / truth.depth[ok]) < 0.05


def test_posed_sequence_bad_inputs(tmp_path):
    root = _posed_folder(tmp_path / "s")
    (root / "pose" / "2.txt").write_text("1 0 0\n0 1 0\n")
    with pytest.raises(VideoError, match="6 numbers"):
        open_posed_sequence(root)
    np.savetxt(root / "pose" / "2.txt", np.diag([2.0, 1.0, 1.0, 1.0]))
    with pytest.raises(VideoError, match="not a rotation"):
        open_posed_sequence(root)
    np.savetxt(root / "pose" / "2.txt", np.full((4, 4), -np.inf))  # ScanNet's "lost tracking"
    seq = open_posed_sequence(root)
    assert np.isnan(seq.poses[2]).all() and np.isfinite(seq.poses[3]).all()
    (root / "depth" / "4.png").unlink()
    with pytest.raises(VideoError, match="no depth map for frame 4.jpg"):
        open_posed_sequence(root)
    (root / "intrinsic" / "intrinsic_color.txt").unlink()
    with pytest.raises(VideoError, match="no intrinsic matrix"):
        open_posed_sequence(root)


def test_synthetic_path_frames_are_exact_renders_and_deterministic():
    a, b = synthetic_path(4, 64, 48, 20), synthetic_path(4, 64, 48, 20)
    assert np.array_equal(a.poses, b.poses) and a.content_key() == b.content_key()
    assert np.array_equal(a.frames([12])[0], b.frames([12])[0])
    first = make_scene(4, 64, 48)
    np.testing.assert_array_equal(a.depths([0])[0], first.depth)  # frame 0 is the scene's own camera
    assert a.focal_px == pytest.approx(first.focal_px)


def test_render_view_moves_the_scene_the_right_way():
    """Stepping the camera right moves every object left in the image and keeps its depth (pure x step)."""
    scene = make_scene(7, 160, 120)
    moved = render_view(7, 160, 120, camera_pose((0.5, 0.0, 0.0), 0.0, scene.camera["pitch_deg"]))
    for before, after in zip(scene.objects, moved.objects):
        assert after.center[0] == pytest.approx(before.center[0] - 0.5)
        assert after.center[1:] == pytest.approx(before.center[1:])


def test_discover_video_specs(tmp_path, lossless):
    (tmp_path / "clips" / "a").mkdir(parents=True)
    (tmp_path / "clips" / "a" / "one.mkv").write_bytes(lossless[0].read_bytes())
    (tmp_path / "clips" / "notes.txt").write_text("x")
    refs = discover(f"video:{tmp_path / 'clips'}")
    assert [r.id for r in refs] == ["clips/a/one.mkv"] and refs[0].is_video and not refs[0].has_depth
    assert refs[0].load().n_frames == 40
    paths = discover("synthetic-video:2x64x48x16")
    assert [r.frames for r in paths] == [16, 16] and all(r.has_depth and r.is_video for r in paths)
    _posed_folder(tmp_path / "scans" / "scene0001")
    (posed,) = discover(f"posed:{tmp_path / 'scans'}")
    assert posed.id == "scans/scene0001" and posed.has_depth and posed.load().has_poses
    with pytest.raises(ValueError, match="expected synthetic-video"):
        discover("synthetic-video:2x64")
    with pytest.raises(ValueError, match="video_kind"):
        SourceRef(id="x", video="y")


def test_float_depth_of_a_posed_sequence_is_metres_not_millimetres(tmp_path):
    root = _posed_folder(tmp_path / "s")
    for png in (root / "depth").glob("*.png"):
        from PIL import Image

        np.save(png.with_suffix(".npy"), np.asarray(Image.open(png), dtype=np.float32) / 1000)
        png.unlink()
    depth = open_posed_sequence(root).depths([1])[0]
    assert 0.5 < np.nanmedian(depth) < 50  # metres, not scaled by 0.001 again


def test_frame_names_sort_by_number_then_name_and_odd_digits_do_not_crash(tmp_path):
    from spatial_ssrl.sources.video import natural_key

    names = ["f10.png", "f2.png", "f01.png", "f1.png", "1\u00b22.png"]
    ordered = sorted(names, key=natural_key)
    assert [n for n in ordered if n.startswith("f")] == ["f01.png", "f1.png", "f2.png", "f10.png"]


def test_pose_files_that_are_huge_or_not_files_are_refused(tmp_path):
    import os

    from spatial_ssrl.sources.video import read_matrix

    big = tmp_path / "big.txt"
    big.write_text("1 " * 5000)
    with pytest.raises(VideoError, match="longer than"):
        read_matrix(big)
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    with pytest.raises(VideoError, match="not a regular file"):
        read_matrix(fifo)  # never opened: opening a FIFO would block


def test_a_synthetic_path_longer_than_the_video_limit_is_refused():
    with pytest.raises(ValueError, match="frames"):
        discover("synthetic-video:1x64x48x100000000")
