"""Clip order: put shuffled clips of a video back in the order they were filmed.

Geometry: take a window of the video (all of it on the first attempt, a random part of at least
`min_window_frac` of it on a retry), cut it into K equal segments and take `frames_per_clip` evenly spaced
frames from the start of each segment, leaving the last `gap_frac` of every segment out so that adjacent
clips never share the moment of the cut.
Render: displayed clip j shows original clip perm[j] and carries label j + 1 (in the question text and
drawn on each of its frames); perm is a uniformly drawn non-identity permutation.
Question: the clips in displayed order, each as its frames in time order; give the labels from the
earliest clip to the latest.
Answer: the inverse permutation plus one, dash-joined, e.g. `2-3-1`: the format of shuffle and depth_order.
Verifiability (on block-averaged grey frames, `_pixels.model_scale_gray`): the window must show motion
(`min_video_motion`), no two clips may look alike (`min_clip_diff`), the last clip must not look like
the first (`max_loop_ratio`: a loop would make the order ambiguous up to rotation). With camera poses
(posed sequences, synthetic paths), the camera must not come back to the view of a non-adjacent clip
(`max_revisit_ratio`): on a walk there and back again, the way back replays the way there in reverse and
another order tells an equally consistent story.
K and the permutation are the question draw (`draw_clip_order`), fixed while a rejected sample is retried
on another window of the video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spatial_ssrl.engine.registry import register_task
from spatial_ssrl.engine.sample import FrameSequence, Rejection, Sample
from spatial_ssrl.tasks._layout import non_identity_chance, non_identity_permutation
from spatial_ssrl.tasks._pixels import model_scale_gray
from spatial_ssrl.tasks._render import label_pieces
from spatial_ssrl.tasks._wording import check_answer, join, ordinal

TASK = "clip_order"  # the registered name
MAX_CLIPS = 8  # labels 1..8; more clips than this would not fit a model's image budget anyway
REVISIT_ANGLE_RAD = 0.5  # a turn of this many radians counts as far as a step of 1 m (view_distances)


@dataclass
class ClipOrderParams:
    """Thresholds of the clip_order task (docs/tasks.md); the field defaults are the task's defaults."""

    clip_counts: tuple[int, ...] = (3, 4, 5, 6)  # K, drawn uniformly per sample
    frames_per_clip: int = 2  # frames shown per clip, evenly spaced inside it
    gap_frac: float = 0.25  # share of each segment left out at its end, between adjacent clips
    min_window_frac: float = 0.6  # a retry works on a window of at least this share of the video
    min_video_motion: float = 6.0  # grey-level difference (0-255) between the most different clips, at least
    min_clip_diff: float = 2.5  # grey-level difference between any two clips, at least
    max_loop_ratio: float = 0.5  # first-to-last clip difference / median adjacent-clip difference, at least
    max_revisit_ratio: float = 1.0  # with poses: non-adjacent clips' view distance / median adjacent one, at least


def _check_params(params: ClipOrderParams) -> None:
    if not params.clip_counts or any(not 2 <= k <= MAX_CLIPS for k in params.clip_counts):
        raise ValueError(f"clip_counts must be between 2 and {MAX_CLIPS}, got {params.clip_counts}")
    if params.frames_per_clip < 1:
        raise ValueError(f"frames_per_clip must be at least 1, got {params.frames_per_clip}")
    if not 0.0 <= params.gap_frac < 1.0 or not 0.0 < params.min_window_frac <= 1.0:
        raise ValueError("gap_frac must be in [0, 1) and min_window_frac in (0, 1]")


def draw_clip_order(rng: np.random.Generator, params: ClipOrderParams, variant: str) -> dict:
    """The question draw: K, the permutation (displayed clip j shows original clip perm[j]) and an example
    answer that is not the answer."""
    _check_params(params)
    k = int(rng.choice(params.clip_counts))
    perm = non_identity_permutation(k, rng)
    answer = "-".join(str(int(j) + 1) for j in np.argsort(perm))
    example = answer
    while example == answer:
        example = "-".join(str(int(j) + 1) for j in rng.permutation(k))
    return {"clips": k, "perm": [int(p) for p in perm], "example": example}


def clip_frame_indices(
    first: int, last: int, clips: int, frames_per_clip: int, gap_frac: float
) -> list[list[int]] | None:
    """Frame indices of each clip of the window [first, last] (inclusive), in time order; None when the
    window is too short to give every clip distinct frames."""
    length = last - first + 1
    segment = length / clips
    span = segment * (1.0 - gap_frac)  # the part of the segment a clip's frames come from
    if span < frames_per_clip:
        return None
    out = []
    for c in range(clips):
        start = first + c * segment
        if frames_per_clip == 1:
            picks = [start + span / 2.0]
        else:
            picks = [start + (span - 1.0) * f / (frames_per_clip - 1) for f in range(frames_per_clip)]
        out.append([min(last, int(math.floor(p))) for p in picks])
    flat = [i for clip in out for i in clip]
    if len(set(flat)) != len(flat):
        return None
    return out


def _window(n: int, rng: np.random.Generator, attempt: int, min_frac: float) -> tuple[int, int]:
    if attempt == 0:
        return 0, n - 1
    length = max(2, round(n * float(rng.uniform(min_frac, 1.0))))
    first = int(rng.integers(0, n - length + 1))
    return first, first + length - 1


def clip_differences(signatures: list[np.ndarray]) -> np.ndarray:
    """K x K mean absolute grey-level differences between clip signatures."""
    k = len(signatures)
    d = np.zeros((k, k))
    for a in range(k):
        for b in range(a + 1, k):
            d[a, b] = d[b, a] = float(np.abs(signatures[a] - signatures[b]).mean())
    return d


def view_distances(poses: np.ndarray) -> np.ndarray:
    """K x K distances between the camera views of K poses (4x4 camera-to-world): metres between positions plus
    the angle between viewing directions in units of REVISIT_ANGLE_RAD (so 1 m and about 29 degrees weigh alike)."""
    pos, fwd = poses[:, :3, 3], poses[:, :3, 2]
    metres = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    angle = np.arccos(np.clip(fwd @ fwd.T, -1.0, 1.0))
    return metres + angle / REVISIT_ANGLE_RAD


def _question(k: int, frames_per_clip: int, example: str) -> str:
    shown = "one frame" if frames_per_clip == 1 else f"{frames_per_clip} frames in the order they were filmed"
    lines = [
        f"A video was cut into {k} clips of equal length, and the clips were shuffled. Each clip is shown as "
        f"{shown}, and its label is written in the top-left corner of its frames."
    ]
    for j in range(k):
        lines.append(f"Clip {j + 1}: " + "".join("<image>" for _ in range(frames_per_clip)))
    lines.append(
        "Put the clips back in the order they were filmed: give the clip labels from the earliest clip to the "
        f"latest, joined by dashes, for example {example}."
    )
    return "\n".join(lines)


def make_clip_order(
    source: FrameSequence, rng: np.random.Generator, params: ClipOrderParams, variant: str, plan: dict | None = None
) -> Sample | Rejection:
    """Clip order: restore the filmed order of shuffled clips of a video."""
    plan = plan if plan is not None else {**draw_clip_order(rng, params, variant), "attempt": 0}
    k, perm = plan["clips"], np.array(plan["perm"])

    # 1. Geometry: K clips of a window of the video.
    first, last = _window(source.n_frames, rng, plan["attempt"], params.min_window_frac)
    clips = clip_frame_indices(first, last, k, params.frames_per_clip, params.gap_frac)
    if clips is None:
        return Rejection(
            TASK, "clip_order.too_short", f"{last - first + 1} frames cannot give {k} clips of {params.frames_per_clip}"
        )
    frames = source.frames([i for clip in clips for i in clip])
    per_clip = [frames[c * params.frames_per_clip : (c + 1) * params.frames_per_clip] for c in range(k)]

    # 2. Verifiability: motion, distinct clips, no loop.
    signatures = [np.mean([model_scale_gray(f) for f in clip], axis=0) for clip in per_clip]
    d = clip_differences(signatures)
    motion = float(d.max())
    if motion < params.min_video_motion:
        return Rejection(TASK, "clip_order.static", f"largest clip difference {motion:.2f} < {params.min_video_motion}")
    adjacent = float(np.median([d[c, c + 1] for c in range(k - 1)]))
    if adjacent <= 0:  # most adjacent clips are identical (a video that changes only at its end)
        return Rejection(TASK, "clip_order.similar_clips", "adjacent clips are identical")
    loop_ratio = float(d[0, k - 1]) / adjacent
    if loop_ratio < params.max_loop_ratio:
        return Rejection(
            TASK, "clip_order.loop", f"first and last clips differ {loop_ratio:.2f} x the adjacent clips < "
            f"{params.max_loop_ratio}"
        )  # fmt: skip
    closest = float(d[np.triu_indices(k, 1)].min())
    if closest < params.min_clip_diff:
        detail = f"two clips differ by {closest:.2f} < {params.min_clip_diff}"
        return Rejection(TASK, "clip_order.similar_clips", detail)

    revisit = None
    if source.poses is not None:  # the camera must not come back to a view of a non-adjacent clip
        middles = [clip[len(clip) // 2] for clip in clips]
        views = source.poses[middles]
        if np.all(np.isfinite(views)):
            v = view_distances(views)
            step = float(np.median([v[c, c + 1] for c in range(k - 1)]))
            far = [v[a, b] for a in range(k) for b in range(a + 2, k)]
            revisit = min(far) / step if far and step > 0 else math.inf
            if revisit < params.max_revisit_ratio:
                return Rejection(
                    TASK, "clip_order.revisit", f"the camera comes back: two non-adjacent clips are {revisit:.2f} x "
                    f"as far apart as adjacent ones < {params.max_revisit_ratio}",
                )  # fmt: skip

    # 3. Render: displayed clip j = original clip perm[j], its label on each frame.
    images, label_boxes = [], []
    for j in range(k):
        for frame in per_clip[perm[j]]:
            labelled, boxes = label_pieces(frame, [(0, 0, frame.shape[1], frame.shape[0])], [str(j + 1)])
            images.append(labelled)
            label_boxes.append(boxes[0])

    # 4. Answer: for each original clip in time order, the label of the displayed clip that shows it.
    answer = "-".join(str(int(j) + 1) for j in np.argsort(perm))
    f = params.frames_per_clip
    return Sample(
        task=TASK,
        variant=variant,
        source_id=source.id,
        images=images,
        question=_question(k, f, plan["example"]),
        answer=answer,
        meta={
            "videos": [list(range(j * f, (j + 1) * f)) for j in range(k)],  # image indices of each shown clip
            "image_names": [f"clip {j + 1}, frame {i + 1}" for j in range(k) for i in range(f)],
            "frame_indices": [clips[perm[j]] for j in range(k)],  # source frames of each shown clip
            "displayed_to_original": [int(p) for p in perm],
            "window": [first, last],
            "fps": source.fps,
            "label_boxes": label_boxes,
            "margins": {
                "video_motion": round(motion, 3),
                "min_clip_diff": round(closest, 3),
                "loop_ratio": round(loop_ratio, 3),
                "revisit_ratio": None if revisit is None or math.isinf(revisit) else round(revisit, 3),
            },
        },
    )


# ---------------------------------------------------------------------------- cold start


def explain_clip_order(row: dict, meta: dict) -> str:
    """Cold-start reasoning for a clip_order sample, from how it was made (see ColdstartTemplate)."""
    perm = meta["displayed_to_original"]  # displayed clip j (label j + 1) shows original clip perm[j]
    k = len(perm)
    label_at = {orig: j + 1 for j, orig in enumerate(perm)}
    order = [label_at[i] for i in range(k)]
    check_answer(row, "-".join(str(x) for x in order))
    steps = [f"clip {order[i]} runs on into clip {order[i + 1]}" for i in range(k - 1)]
    return " ".join(
        [
            f"There are {k} shuffled clips; I order them by what changes steadily from one clip to the next: "
            "the camera's position and view, and what enters or leaves the picture.",
            f"Clip {order[0]} must come first: no other clip leads into it.",
            "Following the change: " + join(steps) + ".",
            f"Clip {order[-1]} comes last, as the {ordinal(k)} clip.",
            f"So the filmed order is {row['answer']}.",
        ]
    )


register_task(
    TASK,
    make_clip_order,
    params=ClipOrderParams,
    variants={"clips": 1},
    answer_type="permutation",
    needs_video=True,
    coldstart=explain_clip_order,
    draw=draw_clip_order,
    chance=non_identity_chance,
)
