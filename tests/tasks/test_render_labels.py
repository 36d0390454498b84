"""Region-marker labels can only be read as belonging to their own ring (issue 14, item 1).

The checker below is written independently of `_render`: it reads nothing but the markers' metadata
(ring centre, radius of the disk holding the ring, region box, label box) and applies the documented
rule. Layouts are generated the way the tasks constrain them (regions at least a ring radius from the
border, centres at least `min_center_separation` apart), biased towards edges, corners and clusters,
plus tighter layouts than the tasks allow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spatial_ssrl import Rejection, Source, run_task
from spatial_ssrl.tasks import _render
from spatial_ssrl.tasks._regions import min_center_separation, region_side
from spatial_ssrl.tasks._render import LABEL_ASSOCIATION_FACTOR, MarkerFailure, draw_region_markers, marker_geometry
from tests.fixtures.images import textured_image

REASON = "markers.label_ambiguous"


# ---------------------------------------------------------------------------- independent checker


def _point_box(p, b) -> float:
    x, y = p
    return math.hypot(max(b[0] - x, 0.0, x - b[2]), max(b[1] - y, 0.0, y - b[3]))


def _box_box(a, b) -> float:
    return math.hypot(max(0.0, a[0] - b[2], b[0] - a[2]), max(0.0, a[1] - b[3], b[1] - a[3]))


def ambiguities(markers: list[dict], width: int, height: int, factor: float = LABEL_ASSOCIATION_FACTOR) -> list:
    """Every way a drawn label breaks the rule: outside the image, touching a ring or region, or not at
    least `factor` times nearer its own ring than every other ring and every other label."""
    found = []
    for i, m in enumerate(markers):
        b = m["label_box"]
        own = _point_box(m["center"], b) - m["ring_outer_radius"]
        if own < 1:
            found.append((m["label"], "touches its own ring", own))
        if b[0] < 0 or b[1] < 0 or b[2] > width or b[3] > height:
            found.append((m["label"], "outside the image", b))
        for j, o in enumerate(markers):
            if _box_box(b, o["box"]) <= 0:
                found.append((m["label"], f"overlaps region {o['label']}"))
            if j == i:
                continue
            ring = _point_box(o["center"], b) - o["ring_outer_radius"]
            if ring < factor * max(own, 1):
                found.append((m["label"], f"ring {o['label']}", own, ring))
            label = _box_box(b, o["label_box"])
            if label < factor * max(own, 1):
                found.append((m["label"], f"label {o['label']}", own, label))
    return found


# ---------------------------------------------------------------------------- layouts


@st.composite
def layouts(draw, tight: bool = False):
    """(width, height, side, regions): 2-4 square regions placed as the tasks allow, biased to edges,
    corners and clusters. `tight` packs centres closer than the tasks do (rings still apart)."""
    w, h = draw(st.integers(120, 1400)), draw(st.integers(120, 1400))
    side = region_side(w, h, 0.03, 9)
    geo = marker_geometry(side, w, h)
    ring = geo["radius"]
    sep = min_center_separation(side, w, h)
    if tight:
        sep = draw(st.floats(2 * _render.ring_outer_radius(ring) + 1, sep))
    lo, hx, hy = ring, w - ring - side, h - ring - side  # allowed range of a region box's x0 / y0
    assume(hx >= lo and hy >= lo)
    mode = draw(st.sampled_from(["edge", "corner", "cluster", "uniform"]))
    n = draw(st.integers(2, 4))
    near = 1.5 * sep

    def coord(hi: int, edge: bool) -> float:
        where = draw(st.sampled_from(["low", "high"] if edge else ["low", "high", "any"]))
        if where == "low":
            return lo + draw(st.floats(0, near))
        if where == "high":
            return hi - draw(st.floats(0, near))
        return draw(st.floats(lo, hi))

    corners: list[tuple[float, float]] = []
    for _ in range(n):
        if corners and mode == "cluster":
            ax, ay = corners[draw(st.integers(0, len(corners) - 1))]
            a, d = draw(st.floats(0, 2 * math.pi)), sep * draw(st.floats(1.0, 1.3))
            x, y = ax + d * math.cos(a), ay + d * math.sin(a)
        elif mode == "uniform":
            x, y = draw(st.floats(lo, hx)), draw(st.floats(lo, hy))
        else:
            x, y = coord(hx, mode == "corner"), coord(hy, True)
        x, y = min(max(round(x), lo), hx), min(max(round(y), lo), hy)
        if all(math.hypot(x - px, y - py) >= sep for px, py in corners):  # keep regions the tasks could pick
            corners.append((x, y))
    assume(len(corners) >= 2)
    regions = [{"box": [x, y, x + side, y + side], "label": k + 1} for k, (x, y) in enumerate(corners)]
    return w, h, side, regions


# ---------------------------------------------------------------------------- the rule on thousands of layouts


def _check(layout) -> MarkerFailure | list[dict]:
    w, h, side, regions = layout
    image = np.zeros((h, w, 3), np.uint8)
    drawn = draw_region_markers(image, regions, side)
    if isinstance(drawn, MarkerFailure):
        assert drawn.reason == REASON and drawn.detail
        return drawn
    out, markers = drawn
    assert out.shape == image.shape
    assert [m["label"] for m in markers] == [str(r["label"]) for r in regions]
    assert not ambiguities(markers, w, h), ambiguities(markers, w, h)
    return markers


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(layout=layouts())
def test_no_drawn_label_is_ambiguous_on_task_layouts(layout):
    _check(layout)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(layout=layouts(tight=True))
def test_no_drawn_label_is_ambiguous_even_when_rings_are_packed(layout):
    _check(layout)


def test_rejections_are_rare_on_dense_task_layouts():
    """Edge/corner/cluster layouts the tasks can produce rarely lack a valid placement."""
    rng = np.random.default_rng(0)
    failed = total = 0
    while total < 300:
        w, h = (int(v) for v in rng.integers(200, 1200, size=2))
        side = region_side(w, h, 0.03, 9)
        ring = marker_geometry(side, w, h)["radius"]
        sep = min_center_separation(side, w, h)
        corners = [(ring + int(rng.integers(0, int(sep))), ring + int(rng.integers(0, int(sep))))]  # a corner
        for _ in range(20):
            if len(corners) == 3:
                break
            ax, ay = corners[int(rng.integers(len(corners)))]
            a, d = rng.uniform(0, 2 * math.pi), sep * rng.uniform(1.0, 1.3)
            x = int(np.clip(round(ax + d * math.cos(a)), ring, w - ring - side))
            y = int(np.clip(round(ay + d * math.sin(a)), ring, h - ring - side))
            if all(math.hypot(x - px, y - py) >= sep for px, py in corners):
                corners.append((x, y))
        if len(corners) < 3:
            continue
        total += 1
        regions = [{"box": [x, y, x + side, y + side], "label": k + 1} for k, (x, y) in enumerate(corners)]
        failed += isinstance(_check((w, h, side, regions)), MarkerFailure)
    assert failed <= 0.03 * total, failed


# ---------------------------------------------------------------------------- metadata is what is drawn


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(layout=layouts(), seed=st.integers(0, 50))
def test_metadata_holds_every_drawn_pixel(layout, seed):
    """Every changed pixel lies inside a ring's stated disk or a stated label box, each label box holds
    ink, the regions are untouched: the checker above is about the pixels, not just the numbers."""
    w, h, side, regions = layout
    assume(w * h <= 700 * 700)
    image = textured_image(seed, w, h)
    drawn = draw_region_markers(image, regions, side)
    if isinstance(drawn, MarkerFailure):
        return
    out, markers = drawn
    ys, xs = np.nonzero((out != image).any(axis=2))
    covered = np.zeros(len(xs), bool)
    for m in markers:
        cx, cy = m["center"]
        covered |= np.hypot(xs - cx, ys - cy) < m["ring_outer_radius"]
        x0, y0, x1, y1 = m["label_box"]
        in_box = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        assert in_box.sum() > 0.1 * (x1 - x0) * (y1 - y0)  # the label really is drawn there
        covered |= in_box
        bx0, by0, bx1, by1 = m["box"]
        np.testing.assert_array_equal(out[by0:by1, bx0:bx1], image[by0:by1, bx0:bx1])
        assert (np.abs(np.hypot(xs - cx, ys - cy) - m["ring_radius"]) < 2).any()  # a ring at this radius
    assert covered.all(), list(zip(xs[~covered], ys[~covered]))[:5]


def test_placement_is_deterministic():
    regions = [{"box": [20, 20, 34, 34], "label": 1}, {"box": [70, 20, 84, 34], "label": 2}]
    image = textured_image(0, 320, 240)
    a, b = draw_region_markers(image, regions, 14), draw_region_markers(image, regions, 14)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]


# ---------------------------------------------------------------------------- no valid placement: rejected


def test_a_layout_without_a_valid_placement_is_refused():
    """A 31 x 74 strip holding two regions at the top and bottom: the top label cannot go above or beside
    its ring (no room) nor below it (too near the other ring), so nothing is drawn."""
    side = 9
    ring = marker_geometry(side, 31, 74)["radius"]
    regions = [
        {"box": [ring, ring, ring + side, ring + side], "label": 1},
        {"box": [ring, 55, ring + side, 64], "label": 2},
    ]
    result = draw_region_markers(textured_image(0, 31, 74), regions, side)
    assert isinstance(result, MarkerFailure)
    assert result.reason == REASON and "1" in result.detail


def test_depth_order_rejects_with_the_reason_when_regions_crowd_a_corner():
    """Only a 70 x 70 corner of the depth map is valid, so the three regions crowd it; some draws leave
    no unambiguous placement and are rejected with the reason, every accepted sample passes the rule."""
    w, h = 160, 120
    yy, xx = np.mgrid[0:h, 0:w]
    depth = np.where((xx < 70) & (yy < 70), 1.2 ** ((xx + yy) / 16.0), np.nan).astype(np.float32)
    src = Source("corner", textured_image(3, w, h), depth=depth)
    reasons = []
    for i in range(60):
        result = run_task("depth_order", src, seed=0, index=i)
        if isinstance(result, Rejection):
            reasons.append(result.reason)
            assert result.reason in (REASON, "depth.no_separated_regions", "depth.too_few_regions")
            if result.reason == REASON:
                assert "nearer its own ring" in result.detail
        else:
            assert not ambiguities(result.meta["markers"], w, h)
    assert REASON in reasons


@pytest.mark.parametrize("task", ["depth_order", "position"])
def test_every_marker_task_turns_a_placement_failure_into_a_rejection(task, monkeypatch):
    """Same rule for every task that draws region markers: the failure reaches the caller as a Rejection."""
    from importlib import import_module

    from spatial_ssrl.sources.synthetic import make_scene

    module = import_module(f"spatial_ssrl.tasks.{task}")
    assert module.draw_region_markers is draw_region_markers
    failure = MarkerFailure(REASON, "forced")
    monkeypatch.setattr(module, "draw_region_markers", lambda *a, **k: failure)
    src = make_scene(0, 480, 360).to_source("s")
    results = [run_task(task, src, seed=0, index=i) for i in range(6)]
    assert all(isinstance(r, Rejection) for r in results)
    assert REASON in {r.reason for r in results}
