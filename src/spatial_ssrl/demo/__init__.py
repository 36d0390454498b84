"""`ssrl demo`: generate -> cold-start SFT -> GRPO -> evaluation -> report, on bundled data with a tiny model.

    from spatial_ssrl.demo import DemoConfig, run_demo
    report = run_demo(DemoConfig(out_dir="outputs/demo"))      # report.json's content
    report["comparison"]["rows"][-1]                            # accuracy / format of the three models, all tasks

Stages and output layout: spatial_ssrl.demo.pipeline; the report: spatial_ssrl.demo.report.
"""

from spatial_ssrl.demo.config import DemoConfig, DemoError
from spatial_ssrl.demo.pipeline import run_demo

__all__ = ["DemoConfig", "DemoError", "run_demo"]
