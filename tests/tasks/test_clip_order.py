"""Clip order answers are proven by reordering the shown clips by the answer: the pan then runs in time order."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, run_task
from spatial_ssrl.engine.sample import FrameSequence
from spatial_ssrl.tasks.clip_order import ClipOrderParams, clip_frame_indices, explain_clip_order
from tests.fixtures.stats import CHI2_999, chi_square
from tests.fixtures.videos import pan_frames, pan_sequence

REASONS = {f"clip_order.{r}" for r in ("too_short", "static", "loop", "similar_clips", "revisit")}


def _time_of(frame: np.ndarray, truth: list[np.ndarray], label_box: list[int]) -> int:
    """Which pan frame `frame` shows, matched outside its label: the pan step makes every frame unique."""
    mask = np.ones(frame.shape[:2], bool)
    x0, y0, x1, y1 = label_box
    mask[max(0, y0) : y1, max(0, x0) : x1] = False
    errors = [np.abs(frame.astype(int) - t)[mask].max() for t in truth]
    best = int(np.argmin(errors))
    assert errors[best] == 0, "a shown frame is not a frame of the video"
    return best


@settings(max_examples=25, deadline=None)
@given(n=st.integers(24, 90), seed=st.integers(0, 10**6), k=st.sampled_from([3, 4, 5, 6]), f=st.integers(1, 3))
def test_reordering_the_clips_by_the_answer_restores_time_order(n, seed, k, f):
    truth = pan_frames(n, seed=seed % 7)
    video = pan_sequence(n, seed=seed % 7)
    params = ClipOrderParams(clip_counts=(k,), frames_per_clip=f)
    sample = run_task("clip_order", video, seed=seed, params=params)
    if isinstance(sample, Rejection):
        too_short = clip_frame_indices(0, n - 1, k, f, params.gap_frac) is None
        assert (sample.reason == "clip_order.too_short") == too_short, sample
        assert sample.reason in REASONS
        return
    labels = [int(x) for x in sample.answer.split("-")]
    assert sorted(labels) == list(range(1, k + 1)) and labels != list(range(1, k + 1))
    assert sample.question.count("<image>") == len(sample.images) == k * f
    times = [_time_of(im, truth, box) for im, box in zip(sample.images, sample.meta["label_boxes"])]
    shown = [times[j * f : (j + 1) * f] for j in range(k)]  # displayed clip j, label j + 1
    restored = [t for label in labels for t in shown[label - 1]]
    assert restored == sorted(restored) and len(set(restored)) == len(restored)
    # Every shown clip keeps its frames in time order, and the question names each clip once.
    assert all(c == sorted(c) for c in shown)
    assert all(f"Clip {j + 1}: " + "<image>" * f in sample.question for j in range(k))


def test_a_steady_pan_is_mostly_accepted():
    """The filters refuse what is ambiguous, not ordinary videos: most draws on a long pan give a sample."""
    results = [run_task("clip_order", pan_sequence(90, seed=s), seed=s) for s in range(20)]
    assert sum(not isinstance(r, Rejection) for r in results) >= 14, [getattr(r, "reason", "ok") for r in results]


def test_static_video_is_rejected():
    frame = pan_frames(1)[0]
    still = FrameSequence("still", 40, 96, 64, read_frames=lambda idx: [frame for _ in idx])
    result = run_task("clip_order", still, seed=0)
    assert isinstance(result, Rejection) and result.reason == "clip_order.static"


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_a_loop_is_rejected(k):
    """A video that comes back to where it started (a pan that repeats): the last clip shows what the first
    did, so the order is ambiguous up to rotation."""
    n = 60
    period = n * (k - 1) // k  # the last clip starts where the pan starts again
    cycle = pan_frames(period)
    frames = [cycle[i % period] for i in range(n)]
    loop = FrameSequence("loop", n, 96, 64, read_frames=lambda idx: [frames[i] for i in idx])
    result = run_task("clip_order", loop, seed=0, params=ClipOrderParams(clip_counts=(k,)))
    assert isinstance(result, Rejection) and result.reason == "clip_order.loop", result


def test_near_identical_clips_are_rejected():
    """A video that jumps between two shots: clips 1 and 3 are the same picture."""
    a, b = pan_frames(1, seed=1)[0], pan_frames(1, seed=2)[0]
    frames = [a] * 20 + [b] * 20 + [a] * 20 + [b] * 20
    video = FrameSequence("cut", 80, 96, 64, read_frames=lambda idx: [frames[i] for i in idx])
    result = run_task("clip_order", video, seed=0, params=ClipOrderParams(clip_counts=(4,)))
    assert isinstance(result, Rejection) and result.reason in ("clip_order.similar_clips", "clip_order.loop")


def test_deterministic_and_cold_start_explains_the_answer():
    video = pan_sequence(60)
    a = run_task("clip_order", video, seed=3, index=2)
    b = run_task("clip_order", pan_sequence(60), seed=3, index=2)
    assert a.answer == b.answer and all(np.array_equal(x, y) for x, y in zip(a.images, b.images))
    row = {"id": "x", "answer": a.answer}
    assert a.answer in explain_clip_order(row, a.meta)
    with pytest.raises(ValueError):
        explain_clip_order({"id": "x", "answer": "1-2-3"}, a.meta)


def test_answers_are_uniform_over_the_non_identity_orders():
    video = pan_sequence(60)
    params = ClipOrderParams(clip_counts=(3,))
    counts = Counter(run_task("clip_order", video, seed=0, index=i, params=params).answer for i in range(600))
    assert len(counts) == math.factorial(3) - 1 and "1-2-3" not in counts
    assert chi_square(counts, sorted(counts)) < CHI2_999[4], counts


def _posed_pan(zs: list[float]) -> FrameSequence:
    """Pan frames (the picture at offset 4 * z * 10 px) and camera poses at depth z along the view."""
    from spatial_ssrl.sources.synthetic import camera_pose

    canvas = pan_frames(200)
    frames = [canvas[round(z * 10)] for z in zs]
    poses = np.stack([camera_pose((0.0, 0.0, z), 0.0, 10.0) for z in zs])
    return FrameSequence("posed", len(zs), 96, 64, read_frames=lambda idx: [frames[i] for i in idx], poses=poses)


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_a_walk_there_and_back_is_rejected_by_its_poses(k):
    zs = [0.1 * min(i, 59 - i) for i in range(60)]  # 3 m forward, 3 m back
    result = run_task("clip_order", _posed_pan(zs), seed=0, params=ClipOrderParams(clip_counts=(k,)))
    assert isinstance(result, Rejection) and result.reason in ("clip_order.revisit", "clip_order.loop"), result


@pytest.mark.parametrize("k", [3, 4, 5, 6])
def test_a_steady_walk_keeps_its_poses_apart(k):
    zs = [0.1 * i for i in range(60)]
    result = run_task("clip_order", _posed_pan(zs), seed=0, params=ClipOrderParams(clip_counts=(k,)))
    assert not isinstance(result, Rejection), result
    assert result.meta["margins"]["revisit_ratio"] >= 1.0


def test_a_video_that_changes_only_at_its_end_is_refused_not_a_crash():
    still, other = pan_frames(1, seed=1)[0], pan_frames(1, seed=2)[0]
    frames = [still] * 60 + [other] * 20
    video = FrameSequence("late", 80, 96, 64, read_frames=lambda idx: [frames[i] for i in idx])
    result = run_task("clip_order", video, seed=0, params=ClipOrderParams(clip_counts=(4,)))
    assert isinstance(result, Rejection) and result.reason == "clip_order.similar_clips"
