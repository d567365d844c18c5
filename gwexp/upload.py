"""``python -m gwexp.upload OUTPUT_DIR``: log a run folder to MLflow after the fact.

For runs whose tracking failed (the WARNING names this command) or ran with
tracking off. A sweep job nests under its sweep's parent run when the sweep
folder records one. This is the minimal form: it uploads run folders, not a
sweep's analysis, which only the sweep's end writes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gwexp.config import TrackingConfig
from gwexp.errors import ConfigError, GwexpError, TrackingError, unreadable_folder
from gwexp.redact import flatten
from gwexp.results import RESULT_FILE
from gwexp.tracking import RUN_FILE, RunContext, log_run, read_parent, run_name


def upload(output_dir: Path, uri: str | None = None, force: bool = False) -> str:
    """Log one run folder; the new MLflow run id."""
    output_dir = output_dir.resolve()
    config_file = output_dir / ".hydra" / "config.yaml"
    if not (output_dir / RESULT_FILE).exists() or not config_file.exists():
        raise ConfigError(
            f"output_dir={output_dir} has no {RESULT_FILE} or .hydra/config.yaml: "
            "give the folder of one run or one sweep job"
        )
    if (output_dir / RUN_FILE).exists() and not force:
        raise ConfigError(
            f"output_dir={output_dir} is already in MLflow ({RUN_FILE}): "
            "pass --force to log it again"
        )
    container = OmegaConf.to_container(OmegaConf.load(config_file), resolve=False)
    assert isinstance(container, dict)
    flat = flatten({str(k): v for k, v in container.items()})
    tracking = TrackingConfig(
        enabled=True,
        uri=uri or flat.get("tracking.uri"),
        experiment=str(flat.get("tracking.experiment", "gwexp")),
    )
    overrides_file = output_dir / ".hydra" / "overrides.yaml"
    overrides = yaml.safe_load(overrides_file.read_text()) or []
    parent = read_parent(output_dir.parent)
    varying = list(parent.get("varying", [])) if parent else []
    context = RunContext(
        run_name=run_name(flat, [str(o) for o in overrides], varying),
        parent_run_id=parent.get("run_id") if parent else None,
    )
    run_id = log_run(tracking, flat, output_dir, context)
    if run_id is None:
        raise TrackingError(f"output_dir={output_dir} was not uploaded: see above")
    return run_id


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: `python -m gwexp.upload OUTPUT_DIR [--tracking-uri URI]`."""
    parser = argparse.ArgumentParser(
        prog="python -m gwexp.upload",
        description="Log a gwexp run folder to MLflow after the fact.",
    )
    parser.add_argument("output_dir", type=Path, help="the folder of a run")
    parser.add_argument(
        "--tracking-uri", default=None, help="default: the run's tracking.uri"
    )
    parser.add_argument("--force", action="store_true", help="log it again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="gwexp: %(message)s")
    try:
        try:
            upload(args.output_dir, args.tracking_uri, args.force)
        except (yaml.YAMLError, OmegaConfBaseException, ValueError) as error:
            raise unreadable_folder(args.output_dir, error) from None
    except GwexpError as error:
        print(f"gwexp: error: {error}", file=sys.stderr)
        sys.exit(error.exit_status)


if __name__ == "__main__":
    main()
