"""`ssrl generate OUT`: build a dataset (bundled photos + synthetic RGB-D scenes by default)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from spatial_ssrl.cli._args import CommandError, add_config_arguments, add_import_argument, config_values
from spatial_ssrl.dataset.config import BuildConfig

DEFAULT_SYNTHETIC_SCENES = 4  # without --inputs: the bundled photos plus this many RGB-D scenes


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register `generate`; its build flags come from BuildConfig's fields."""
    parser = subparsers.add_parser(
        "generate", help="generate a dataset (bundled photos + synthetic RGB-D scenes by default)"
    )
    parser.add_argument("out", help="output folder")
    parser.add_argument(
        "--inputs",
        nargs="*",
        default=None,
        help="sources: photos:DIR, rgbd:DIR (images paired with depth by name), diode:DIR, megadepth:DIR, "
        "manifest:FILE[@ROOT], synthetic:N[xWxH], bundled, "
        f"or a plain file/folder of photos (default: bundled photos + {DEFAULT_SYNTHETIC_SCENES} synthetic scenes)",
    )
    # Literal choices (not imported from the sources layer) keep `ssrl --help` free of numpy / PIL imports;
    # they equal sources.load.DEPTH_ORIENTATIONS / DEPTH_RESIZE_POLICIES (checked in tests/sources/test_discover.py).
    parser.add_argument(
        "--depth-orientation",
        choices=("stored", "display"),
        default=None,
        help="pixel grid the depth maps of --inputs were made on, for photos with an EXIF rotation / mirror: "
        "'stored' (the file's raw grid, as cameras and dataset tools write it) or 'display' (the upright image); "
        "default: inferred from the depth map's size, and such a source is refused when both grids fit. "
        "A manifest's depth_orientation column overrides it per row",
    )
    parser.add_argument(
        "--depth-resize",
        choices=("error", "nearest"),
        default="error",
        help="when a depth map of --inputs differs in size from its image: 'error' (the source is counted as "
        "unreadable) or 'nearest' (resized by nearest neighbour if the aspect ratios agree within 1%%); "
        "default: error. A manifest's depth_resize column overrides it per row",
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        default=None,
        help=f"number of synthetic RGB-D scenes (default: {DEFAULT_SYNTHETIC_SCENES} without --inputs, else 0)",
    )
    parser.set_defaults(config_fields=add_config_arguments(parser, BuildConfig))
    add_import_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Check the settings, discover the sources, build, print the statistics."""
    from spatial_ssrl.dataset.builder import BuildInputError, BuildMismatch, build
    from spatial_ssrl.dataset.config import BuildConfigError
    from spatial_ssrl.dataset.pool import WorkerPoolError
    from spatial_ssrl.dataset.ray_engine import ClusterError
    from spatial_ssrl.sources.discover import DiscoveryReport, bundled_photos, discover, synthetic

    try:  # settings first: a bad flag is reported before a long folder scan
        config = BuildConfig(
            out_dir=Path(args.out), task_modules=args.import_modules, **config_values(args, args.config_fields)
        )
    except BuildConfigError as exc:
        raise CommandError(str(exc)) from exc
    report = DiscoveryReport()
    try:
        depth_options = {"depth_orientation": args.depth_orientation, "depth_resize": args.depth_resize}
        sources = (
            [ref for spec in args.inputs for ref in discover(spec, report=report, **depth_options)]
            if args.inputs
            else bundled_photos()
        )
    except (ValueError, OSError) as exc:  # a bad spec, a missing folder, a malformed manifest
        raise CommandError(str(exc)) from exc
    n_synthetic = args.synthetic if args.synthetic is not None else (0 if args.inputs else DEFAULT_SYNTHETIC_SCENES)
    sources += synthetic(n_synthetic)
    try:
        stats = build(config, sources, discovery_skips=report.skipped)
    # one-line user errors: a bad setting, unusable sources, an output folder that is not a dataset
    # (OutputNotEmpty) or holds another build, workers that cannot run
    except (BuildConfigError, BuildInputError, BuildMismatch, WorkerPoolError, ClusterError) as exc:
        raise CommandError(str(exc)) from exc
    keys = ("samples", "per_task", "per_split", "shortfall", "rejections", "seconds", "samples_per_second")
    print(json.dumps({k: stats[k] for k in keys}, indent=2))
    print(f"wrote {Path(args.out) / 'data'}, README.md, stats.json and preview.html")
    return 0
