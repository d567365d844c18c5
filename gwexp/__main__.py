"""``python -m gwexp``: compose the experiment with Hydra, run it, report it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

# Exit status of a program stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

try:
    # A second of imports: a Ctrl-C in it ends quietly, not with a traceback.
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.errors import HydraException
    from hydra.types import RunMode
    from omegaconf import DictConfig
    from omegaconf.errors import OmegaConfBaseException

    from gwexp import job, tracking
    from gwexp.config import register_configs, to_run_config
    from gwexp.errors import ConfigError, GwexpError, RunFailed
    from gwexp.redact import redact_saved_config, refuse_literal_secrets
    from gwexp.report import QuietConsole, RichObserver, print_summary
except KeyboardInterrupt:
    sys.stderr.write("gwexp: interrupted\n")
    sys.exit(EXIT_INTERRUPTED)

log = logging.getLogger("gwexp")
MULTIRUN_FLAGS = ("-m", "--multirun")

register_configs()


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def hydra_main(cfg: DictConfig) -> str:
    """Run one experiment (or one sweep job) and report it."""
    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    console = QuietConsole(stderr=True)
    if hydra_cfg.output_subdir is not None:
        redact_saved_files(
            output_dir / hydra_cfg.output_subdir / "config.yaml",
            Path(hydra_cfg.sweep.dir) / "multirun.yaml" if in_sweep else None,
        )

    try:
        run_cfg = to_run_config(cfg)
        context = tracking.run_context(
            run_cfg,
            Path(hydra_cfg.sweep.dir) if in_sweep else None,
            list(hydra_cfg.overrides.task),
            os.environ,
        )
        result = job.run(run_cfg, output_dir, RichObserver(console), context)
    except GwexpError as error:
        job.write_outcome(job.JobOutcome("failed", str(error)), output_dir)
        if in_sweep:
            log.error("%s", error)
            return "failed"
        say(f"gwexp: error: {error}")
        sys.exit(error.exit_status)

    status = "ok" if result.status == "completed" else result.status
    job.write_outcome(job.JobOutcome(status, result.stopped_reason), output_dir)
    if not in_sweep:
        # The result is on disk already; a terminal that went away loses nothing.
        with contextlib.suppress(OSError):
            print_summary(result, str(output_dir), QuietConsole())
    if result.status == "interrupted":
        raise KeyboardInterrupt
    if result.status == "stopped" and not in_sweep:
        say(f"gwexp: error: {result.stopped_reason}")
        sys.exit(RunFailed.exit_status)
    return status


def multirun_flag_first(argv: list[str]) -> list[str]:
    """The arguments with -m/--multirun first: Hydra rejects overrides before it."""
    flags = [arg for arg in argv if arg in MULTIRUN_FLAGS]
    return flags + [arg for arg in argv if arg not in MULTIRUN_FLAGS]


def redact_saved_files(config: Path, multirun: Path | None) -> None:
    """Take a literal secret from a config file out of the copies Hydra saved."""
    if not config.exists() or not redact_saved_config(config):
        return
    if multirun is not None and multirun.exists():
        redact_saved_config(multirun)
    log.warning(
        "a config file gives a secret literally; it is redacted from the saved "
        "config: use ${oc.env:MXGW_API_KEY,null} instead"
    )


def say(line: str) -> None:
    """One line to stderr; nothing when stderr has gone (a closed pipe)."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


def compact_message(error: Exception) -> str:
    """Hydra's multi-line composition error as one line, without internal names."""
    text = str(error)
    if error.__cause__ is not None and str(error.__cause__) not in text:
        text += "\n" + str(error.__cause__)
    parts: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        # Hydra suggests `+key=value` for an unknown key, which would add it unchecked.
        skipped = (
            "Config search path",
            "provider=",
            "Set the environment",
            "To append",
        )
        if line.startswith(skipped):
            continue
        if not line or line.startswith(
            ("full_key:", "object_type=", "reference_type=")
        ):
            continue
        if line.endswith("_schema"):
            continue
        if raw.startswith("\t") and parts and parts[-1].endswith(":"):
            parts[-1] += f" {line}"
        elif raw.startswith("\t") and parts:
            parts[-1] += f", {line}"
        else:
            parts.append(line)
    return "; ".join(parts)


def main() -> None:
    """Entry point: one line per error; Ctrl-C exits 130 after the run cleaned up."""
    # Composition errors then reach us as exceptions instead of Hydra's printout.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    # A log line to a closed pipe (output through `tee`, then Ctrl-C) is dropped
    # instead of printing a traceback per line.
    logging.raiseExceptions = False
    # SIGTERM (a CI cancel, `kill`) ends the run like Ctrl-C: sessions closed,
    # partial result written, MLflow runs KILLED.
    signal.signal(signal.SIGTERM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    sys.argv[1:] = multirun_flag_first(sys.argv[1:])
    try:
        refuse_literal_secrets(sys.argv[1:], "on the command line")
    except ConfigError as error:
        say(f"gwexp: error: {error}")
        sys.exit(error.exit_status)
    try:
        hydra_main()
    except (HydraException, OmegaConfBaseException) as error:
        say(f"gwexp: error: {compact_message(error)}")
        sys.exit(ConfigError.exit_status)
    except KeyboardInterrupt:
        tracking.end_open_runs("KILLED")
        say("gwexp: interrupted")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        # A sweep that stopped on an unexpected error leaves its parent run open.
        tracking.end_open_runs("FAILED")


if __name__ == "__main__":
    main()
