"""``python -m gwexp``: compose the experiment with Hydra, run it, report it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from rich.console import Console

from gwexp import job
from gwexp.config import register_configs, to_run_config
from gwexp.errors import GwexpError
from gwexp.report import RichObserver, print_summary

log = logging.getLogger("gwexp")
# Conventional exit status of a program stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def hydra_main(cfg: DictConfig) -> str:
    """Run one experiment (or one sweep job) and report it."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    console = Console(stderr=True)

    try:
        run_cfg = to_run_config(cfg)
        result = job.run(run_cfg, output_dir, RichObserver(console))
    except GwexpError as error:
        job.write_outcome(
            job.JobOutcome("failed", str(error), error.exit_status), output_dir
        )
        log.error("%s", error)
        if in_sweep:
            return "failed"
        print(f"gwexp: error: {error}", file=sys.stderr)
        sys.exit(error.exit_status)

    status = "ok" if result.status == "completed" else result.status
    job.write_outcome(job.JobOutcome(status), output_dir)
    if not in_sweep:
        print_summary(result, str(output_dir), Console())
    if result.status == "interrupted":
        raise KeyboardInterrupt
    return status


def main() -> None:
    """Entry point: Ctrl-C exits with status 130 after the run cleaned up."""
    try:
        hydra_main()
    except KeyboardInterrupt:
        print("gwexp: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
