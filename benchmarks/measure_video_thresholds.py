"""Measure the quantities behind the video tasks' default thresholds and print Markdown tables.

clip_order (grey-level differences at model scale between clip signatures, `_pixels.model_scale_gray`):
- moving videos: camera paths through synthetic scenes, and pans across the bundled photos (real pictures);
- static videos: a still camera over a synthetic scene (sensor noise only), and the same still video after an
  H.264 round trip (compression noise);
- loops: a camera that walks forward and back again, and a pan that repeats (the last clip shows the first).
ego_motion (from exact poses and depth of synthetic paths): how far the image moves for each accepted motion,
and how much the "other" component would move it at its threshold, i.e. how small the ignored part is.

Everything is seeded, so the tables are identical from run to run.
Run: `python benchmarks/measure_video_thresholds.py [--quick]` (a few minutes on one core).
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from spatial_ssrl import Rejection, run_task
from spatial_ssrl.engine.sample import FrameSequence
from spatial_ssrl.sources.discover import bundled_photos
from spatial_ssrl.sources.synthetic import camera_path, camera_pose, render_view, scene_camera
from spatial_ssrl.sources.video import open_video, synthetic_path
from spatial_ssrl.tasks._pixels import model_scale_gray
from spatial_ssrl.tasks.clip_order import ClipOrderParams, clip_differences, clip_frame_indices, view_distances
from spatial_ssrl.tasks.ego_motion import EgoMotionParams, classify_motion, motion_measures, relative_motion

W, H = 256, 192


def scene_pitch(seed: int) -> float:
    """The pitch of scene `seed`'s camera at W x H."""
    return float(scene_camera(seed, W, H)["pitch_deg"])


def _sequence(name: str, frames: list[np.ndarray], poses: np.ndarray | None = None) -> FrameSequence:
    h, w = frames[0].shape[:2]
    return FrameSequence(name, len(frames), w, h, read_frames=lambda idx: [frames[i] for i in idx], poses=poses)


def clip_stats(video: FrameSequence, k: int, frames_per_clip: int = 2, gap: float = 0.25) -> dict[str, float]:
    """The three measures clip_order checks, on the whole video cut into k clips."""
    clips = clip_frame_indices(0, video.n_frames - 1, k, frames_per_clip, gap)
    sig = [np.mean([model_scale_gray(f) for f in video.frames(c)], axis=0) for c in clips]
    d = clip_differences(sig)
    adjacent = float(np.median([d[c, c + 1] for c in range(k - 1)]))
    stats = {
        "motion": float(d.max()),
        "closest": float(d[np.triu_indices(k, 1)].min()),
        "loop": float(d[0, k - 1]) / adjacent if adjacent > 0 else 0.0,
    }
    if video.poses is not None:
        v = view_distances(video.poses[[c[len(c) // 2] for c in clips]])
        step = float(np.median([v[c, c + 1] for c in range(k - 1)]))
        stats["revisit"] = min(v[a, b] for a in range(k) for b in range(a + 2, k)) / step if k > 2 else math.inf
    return stats


def photo_pan(photo: np.ndarray, n: int) -> list[np.ndarray]:
    """n frames of a W x H window sliding right across a photo (resized so the slide fits)."""
    scale = H / photo.shape[0]
    img = np.asarray(Image.fromarray(photo).resize((max(W + n, round(photo.shape[1] * scale)), H)))
    step = (img.shape[1] - W) / (n - 1)
    return [np.ascontiguousarray(img[:, round(i * step) : round(i * step) + W]) for i in range(n)]


def h264_round_trip(frames: list[np.ndarray], folder: Path) -> list[np.ndarray]:
    import av

    path = folder / "still.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=8)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    video = open_video(path)
    return video.frames(range(video.n_frames))


def _outcomes(video: FrameSequence, counts: tuple[int, ...] = (3, 4, 5, 6)) -> list[str]:
    """The task's verdict on the whole video for each K: "accepted" or the rejection reason."""
    out = []
    for k in counts:
        r = run_task("clip_order", video, seed=0, params=ClipOrderParams(clip_counts=(k,)))
        out.append(r.reason if isinstance(r, Rejection) else "accepted")
    return out


def _row(name: str, values: list[float], lows: bool) -> str:
    v = np.array(values)
    qs = [0, 5, 50] if lows else [50, 95, 100]
    return f"| {name} | {len(v)} | " + " | ".join(f"{np.percentile(v, q):.2f}" for q in qs) + " |"


def measure_clip_order(n_paths: int, frames: int) -> None:
    moving, static = {"motion": [], "closest": [], "loop": [], "revisit": []}, []
    photo_moving = {"motion": [], "closest": [], "loop": []}
    back_revisit: list[float] = []
    refused: dict[str, list[str]] = {"walk there and back": [], "... the same without poses": [], "repeating pan": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(n_paths):
            video = synthetic_path(1000 + seed, W, H, frames)
            for k in (3, 4, 5, 6):
                for key, value in clip_stats(video, k).items():
                    moving[key].append(value)
            still = [render_view(1000 + seed, W, H, camera_path(1000 + seed, W, H, 1)[0][0], noise_seed=i).rgb
                     for i in range(frames)]  # fmt: skip
            static += [clip_stats(_sequence("still", still), k)["motion"] for k in (3, 6)]
            if seed < 4:
                static += [clip_stats(_sequence("still264", h264_round_trip(still, Path(tmp))), k)["motion"]
                           for k in (3, 6)]  # fmt: skip
            pitch = scene_pitch(1000 + seed)
            half = frames // 2  # walk 0.1 m a frame from 3 m behind the scene's camera, then back
            zs = [-3.0 + 0.1 * min(i, frames - 1 - i) * frames / (2 * half) for i in range(frames)]
            poses = np.stack([camera_pose((0.0, 0.0, z), 0.0, pitch) for z in zs])
            there_and_back = [render_view(1000 + seed, W, H, p, noise_seed=i).rgb for i, p in enumerate(poses)]
            refused["walk there and back"] += _outcomes(_sequence("loop", there_and_back, poses))
            refused["... the same without poses"] += _outcomes(_sequence("loop", there_and_back))
            back_revisit += [clip_stats(_sequence("loop", there_and_back, poses), k)["revisit"] for k in (3, 4, 5, 6)]
        for ref in bundled_photos():
            pan = photo_pan(np.asarray(Image.open(ref.rgb).convert("RGB")), frames)
            for k in (3, 4, 5, 6):
                for key, value in clip_stats(_sequence("pan", pan), k).items():
                    photo_moving[key].append(value)
                period = frames * (k - 1) // k  # a pan that starts again where the last clip begins
                cyc = [pan[i % period] for i in range(frames)]
                refused["repeating pan"] += _outcomes(_sequence("cycle", cyc), (k,))
    p = ClipOrderParams()
    print(f"\n### clip_order ({W}x{H} frames, 2 frames per clip)\n")
    print("| videos, measure | n | min | 5% | median |")
    print("|---|---:|---:|---:|---:|")
    print(_row("camera paths: largest clip difference", moving["motion"], True))
    print(_row("camera paths: closest two clips", moving["closest"], True))
    print(_row("camera paths: loop ratio", moving["loop"], True))
    print(_row("camera paths: revisit ratio (poses)", moving["revisit"], True))
    print(_row("photo pans: largest clip difference", photo_moving["motion"], True))
    print(_row("photo pans: closest two clips", photo_moving["closest"], True))
    print(_row("photo pans: loop ratio", photo_moving["loop"], True))
    print("\n| still camera (sensor noise; H.264 round trip), measure | n | median | 95% | max |")
    print("|---|---:|---:|---:|---:|")
    print(_row("largest clip difference", static, False))
    print("\n| walk there and back (poses), measure | n | median | 95% | max |")
    print("|---|---:|---:|---:|---:|")
    print(_row("revisit ratio", back_revisit, False))
    print("\n| loops | samples asked | accepted | refused as: |")
    print("|---|---:|---:|---|")
    for name, outcomes in refused.items():
        reasons = sorted({o for o in outcomes if o != "accepted"})
        print(f"| {name} | {len(outcomes)} | {outcomes.count('accepted')} | "
              + ", ".join(f"{r} ({outcomes.count(r)})" for r in reasons) + " |")  # fmt: skip
    print(f"\nthresholds: min_video_motion {p.min_video_motion}, min_clip_diff {p.min_clip_diff}, "
          f"max_loop_ratio {p.max_loop_ratio}, max_revisit_ratio {p.max_revisit_ratio}")  # fmt: skip


def _flow_px(depth: np.ndarray, rot: np.ndarray, t: np.ndarray, focal: float, stride: int = 8) -> float:
    """Median image displacement (px) of frame a's points seen from camera b."""
    h, w = depth.shape
    v, u = np.mgrid[stride // 2 : h : stride, stride // 2 : w : stride]
    z = depth[v, u]
    ok = np.isfinite(z)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    z, u, v = z[ok].astype(float), u[ok], v[ok]
    pts = np.stack([(u - cx) * z / focal, (v - cy) * z / focal, z], 1)
    b = (pts - t) @ rot
    front = b[:, 2] > 1e-6
    ub = focal * b[front, 0] / b[front, 2] + cx
    vb = focal * b[front, 1] / b[front, 2] + cy
    return float(np.median(np.hypot(ub - u[front], vb - v[front])))


def measure_ego_motion(n_paths: int, frames: int) -> None:
    p = EgoMotionParams()
    flows: dict[str, list[float]] = {}
    for seed in range(n_paths):
        video = synthetic_path(2000 + seed, W, H, frames)
        for index in range(12):
            s = run_task("ego_motion", video, seed=0, index=index)
            if isinstance(s, Rejection):
                continue
            a, b = s.meta["frame_indices"][0], s.meta["frame_indices"][-1]
            rot, t = relative_motion(video.poses[a], video.poses[b])
            flows.setdefault(s.meta["motion"], []).append(_flow_px(video.depths([a])[0], rot, t, video.focal_px))
    # The ignored component at its threshold, on a flat wall at the median depth of the paths (5 m).
    depth = np.full((H, W), 5.0)
    focal = W / 2 / math.tan(math.radians(62.5 / 2))
    eye = camera_pose((0, 0, 0), 0, 0)
    turn = relative_motion(eye, camera_pose((0, 0, 0), p.max_move_rotation_deg, 0))
    slide = relative_motion(eye, camera_pose((p.max_turn_translation_rel * 5.0, 0, 0), 0, 0))
    step = relative_motion(eye, camera_pose((p.min_translation_rel * 5.0, 0, 0), 0, 0))
    min_turn = relative_motion(eye, camera_pose((0, 0, 0), p.min_turn_deg, 0))
    print(f"\n### ego_motion ({W}x{H}, synthetic paths: exact poses and depth)\n")
    print("| accepted motion | n | median image motion (px), 5% | median | 95% |")
    print("|---|---:|---:|---:|---:|")
    for motion in ("forward", "backward", "left", "right", "turn_left", "turn_right"):
        v = np.array(flows.get(motion, [np.nan]))
        print(f"| {motion} | {len(flows.get(motion, []))} | {np.percentile(v, 5):.1f} | {np.median(v):.1f} | "
              f"{np.percentile(v, 95):.1f} |")  # fmt: skip
    print("\n| at the threshold, flat wall at 5 m | image motion (px) |")
    print("|---|---:|")
    print(f"| smallest sideways move ({p.min_translation_rel} x depth) | {_flow_px(depth, *step, focal):.1f} |")
    print(f"| smallest turn ({p.min_turn_deg} deg) | {_flow_px(depth, *min_turn, focal):.1f} |")
    print(f"| largest turn allowed in a move ({p.max_move_rotation_deg} deg) | {_flow_px(depth, *turn, focal):.1f} |")
    print(f"| largest move allowed in a turn ({p.max_turn_translation_rel} x depth) | "
          f"{_flow_px(depth, *slide, focal):.1f} |")  # fmt: skip
    m = motion_measures(*step, 5.0)
    assert classify_motion(m, p) == "right"


def _strip(frames: list[np.ndarray], gap: int = 4) -> np.ndarray:
    h = frames[0].shape[0]
    parts = []
    for f in frames:
        parts += [f, np.full((h, gap, 3), 255, np.uint8)]
    return np.concatenate(parts[:-1], axis=1)


def write_examples(folder: Path) -> None:
    """One sample of each video task as a PNG (docs/tasks.md): clips as rows of frames, in shown order."""
    folder.mkdir(parents=True, exist_ok=True)
    video = synthetic_path(7, 192, 144, 64)
    clip = next(s for i in range(20) if not isinstance(s := run_task("clip_order", video, seed=3, index=i), Rejection))
    f = len(clip.images) // len(clip.meta["videos"])
    rows = [_strip(clip.images[j : j + f]) for j in range(0, len(clip.images), f)]
    gap = np.full((6, rows[0].shape[1], 3), 255, np.uint8)
    Image.fromarray(np.concatenate([x for r in rows for x in (r, gap)][:-1])).save(folder / "clip_order_example.png")
    print(f"clip_order example: answer {clip.answer}")
    for motion in ("turn_right", "left"):
        ego = next(
            s for i in range(60)
            if not isinstance(s := run_task("ego_motion", video, seed=0, index=i), Rejection)
            and s.meta["motion"] == motion and s.variant == "two_frames"
        )  # fmt: skip
        Image.fromarray(_strip(ego.images, 6)).save(folder / f"ego_motion_{motion}_example.png")
        print(f"ego_motion example ({motion}): answer {ego.answer}, frames {ego.meta['frame_indices']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--examples", type=Path, help="also write one example image per task into this folder")
    args = parser.parse_args()
    if args.examples:
        write_examples(args.examples)
    n = 4 if args.quick else 24
    measure_clip_order(n, 48)
    measure_ego_motion(n, 64)


if __name__ == "__main__":
    main()
