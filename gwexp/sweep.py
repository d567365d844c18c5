"""The sweep's Hydra callback: a line per job, then a table and the exit status."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from gwexp.errors import ConfigError
from gwexp.job import OUTCOME_FILE
from gwexp.redact import refuse_literal_secrets
from gwexp.report import QuietConsole, counted, format_ms, print_sweep_table
from gwexp.results import RESULT_FILE

log = logging.getLogger("gwexp.sweep")
# Exit status of a sweep in which at least one job failed.
EXIT_SWEEP_JOB_FAILED = 1
# Job outcomes that make the sweep fail: no result, or on_open_failure=stop.
FAILED_STATUSES = ("failed", "stopped")


def sweep_spec(
    task_overrides: Sequence[str], sweeper_params: Mapping[str, Any] | None
) -> dict[str, str]:
    """What the sweep varies, key -> its sweep text (`bulk_size` -> `6,24,60,120`)."""
    spec = {str(k): str(v) for k, v in (sweeper_params or {}).items()}
    for override in OverridesParser.create().parse_overrides(list(task_overrides)):
        if override.is_sweep_override() and override.input_line:
            spec[override.key_or_group] = override.input_line.split("=", 1)[1]
    return spec


def swept_keys(sweep_dir: Path) -> set[str]:
    """The keys the sweep varies, from the multirun.yaml Hydra saves in its folder."""
    saved = sweep_dir / "multirun.yaml"
    if not saved.exists():
        return set()
    hydra = OmegaConf.load(saved).hydra
    params = hydra.sweeper.get("params")
    return set(sweep_spec(list(hydra.overrides.task), params))


def collect_jobs(sweep_dir: Path) -> list[dict[str, Any]]:
    """One row per job folder of the sweep, in job order.

    A row's ``overrides`` names only what the sweep varies, e.g. ``bulk_size=60``.
    """
    varying = swept_keys(sweep_dir)
    rows = []
    job_dirs = [p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    # A sweep folder used again still holds the older sweep's jobs: only those
    # made since this sweep wrote its multirun.yaml belong to it.
    started = sweep_dir / "multirun.yaml"
    if started.exists():
        since = started.stat().st_mtime
        job_dirs = [p for p in job_dirs if _started_at(p) >= since]
    for job_dir in sorted(job_dirs, key=lambda p: int(p.name)):
        row: dict[str, Any] = {"job": int(job_dir.name), "dir": str(job_dir)}
        overrides = job_dir / ".hydra" / "overrides.yaml"
        chosen = _overrides(overrides)
        if varying:
            chosen = [o for o in chosen if o.split("=", 1)[0].lstrip("+~") in varying]
        row["overrides"] = " ".join(chosen)
        outcome = _read_json(job_dir / OUTCOME_FILE) or {"status": "failed"}
        row["status"] = outcome["status"]
        row["error"] = outcome.get("error")
        result = _read_json(job_dir / RESULT_FILE)
        if result is not None:
            row["events_per_sec"] = result["events_per_sec"]
            row["p50"] = result["latency_ms"]["p50"]
            row["p95"] = result["latency_ms"]["p95"]
            row["faults"] = result["faults_total"]
            row["result"] = result
        rows.append(row)
    return rows


def _started_at(job_dir: Path) -> float:
    """When Hydra started the job: it writes overrides.yaml first, every time."""
    marker = job_dir / ".hydra" / "overrides.yaml"
    return marker.stat().st_mtime if marker.exists() else 0.0


def _overrides(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [str(item) for item in OmegaConf.load(path)]


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


class SweepReport(Callback):
    """Reports each job as it ends and the whole sweep at its end."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Refuse secrets swept literally by a config file, before any job."""
        params = OmegaConf.select(config, "hydra.sweeper.params", default=None)
        if not params:
            return
        given = OmegaConf.to_container(params, resolve=False)
        assert isinstance(given, dict)
        try:
            refuse_literal_secrets(
                [f"{key!s}={value!s}" for key, value in given.items()],
                "in hydra.sweeper.params",
            )
        except ConfigError as error:
            # Hydra turns a callback's exception into a warning and goes on;
            # only an exit stops the sweep before its jobs write anything.
            print(f"gwexp: error: {error}", file=sys.stderr, flush=True)
            sys.exit(error.exit_status)

    def on_job_end(
        self, config: DictConfig, job_return: JobReturn, **kwargs: Any
    ) -> None:
        """One INFO line per sweep job; an ERROR line at once when it failed."""
        if config.hydra.mode is None or str(config.hydra.mode) != "RunMode.MULTIRUN":
            return
        output_dir = Path(config.hydra.runtime.output_dir)
        rows = [
            r for r in collect_jobs(output_dir.parent) if r["dir"] == str(output_dir)
        ]
        if not rows:
            return
        row = rows[0]
        if row["status"] in FAILED_STATUSES:
            log.error(
                "job %d (%s) failed: %s", row["job"], row["overrides"], row["error"]
            )
            return
        log.info(
            "job %d (%s): %s, %.2f events/s, p50 %s ms, p95 %s ms, %s",
            row["job"],
            row["overrides"],
            row["status"],
            row.get("events_per_sec", 0.0),
            format_ms(row.get("p50")),
            format_ms(row.get("p95")),
            counted(int(row.get("faults") or 0), "fault"),
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Print every job in one table; exit non-zero when any job failed."""
        sweep_dir = Path(config.hydra.sweep.dir)
        rows = collect_jobs(sweep_dir)
        print_sweep_table(rows, QuietConsole())
        failed = [r for r in rows if r["status"] in FAILED_STATUSES]
        for row in failed:
            print(
                f"gwexp: job {row['job']} ({row['overrides']}) failed: {row['error']}",
                file=sys.stderr,
            )
        if failed:
            sys.exit(EXIT_SWEEP_JOB_FAILED)
