"""One run from a validated config: gateway, bench, result on disk, then tracking."""

from __future__ import annotations

import asyncio
import json
import logging
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gwexp import __version__
from gwexp.bench import BenchSpec, Observer
from gwexp.config import RunConfig
from gwexp.fanout import ClientSettings, measure_in_process, measure_in_processes
from gwexp.plan import session_tags
from gwexp.report import counted, format_ms
from gwexp.results import Load, RunResult, build_result, write_result
from gwexp.target import open_gateway
from gwexp.tracking import RunContext, track_run

log = logging.getLogger(__name__)

OUTCOME_FILE = "outcome.json"
# Added to warm-up plus window for the default stream deadline, in seconds.
STREAM_DEADLINE_MARGIN_S = 30.0
# Below this, the initial event per subscribed item can still be arriving.
MIN_TRUSTED_WARMUP_S = 1.0


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended, written beside its result for the sweep to read."""

    # ok, faulted, interrupted or failed
    status: str
    error: str | None = None


def bench_spec(cfg: RunConfig) -> BenchSpec:
    """What the bench needs from the config, and nothing else."""
    deadline_s = cfg.stream_deadline_s
    if deadline_s is None:
        # The first stream starts while later sessions are still being opened.
        open_span_s = (cfg.session_count - 1) * cfg.stagger_ms / 1000.0
        deadline_s = (
            open_span_s + cfg.warmup_s + cfg.duration_s + STREAM_DEADLINE_MARGIN_S
        )
    return BenchSpec(
        session_tags=session_tags(cfg.tags, cfg.bulk_size, cfg.session_count),
        stagger_ms=cfg.stagger_ms,
        warmup_s=cfg.warmup_s,
        duration_s=cfg.duration_s,
        # Opens can take up to the start-up timeout; the stream must outlive them.
        stream_deadline_s=deadline_s + cfg.client.open_timeout_s,
        stop_on_open_failure=cfg.on_open_failure == "stop",
    )


def run(
    cfg: RunConfig,
    output_dir: Path,
    observer: Observer,
    tracking_context: RunContext | None = None,
) -> RunResult:
    """Measure once, write result.json, then log it to MLflow if given a context."""
    spec = bench_spec(cfg)
    if cfg.warmup_s < MIN_TRUSTED_WARMUP_S:
        log.warning(
            "warmup_s=%g: each tag's initial event may land in the window and "
            "inflate the rate; use warmup_s=%g or more",
            cfg.warmup_s,
            MIN_TRUSTED_WARMUP_S,
        )
    settings = ClientSettings(
        command_timeout_s=cfg.client.command_timeout_s,
        open_timeout_s=cfg.client.open_timeout_s,
    )
    with open_gateway(cfg.gateway) as gateway:
        if cfg.client.processes == 1:
            measurement = asyncio.run(
                measure_in_process(gateway.target, settings, spec, observer)
            )
        else:
            measurement = measure_in_processes(
                gateway.target, settings, spec, observer, cfg.client.processes
            )
    load = Load(
        bulk_size=cfg.bulk_size,
        session_count=cfg.session_count,
        stagger_ms=cfg.stagger_ms,
        warmup_s=cfg.warmup_s,
        duration_s=cfg.duration_s,
        tags_subscribed_total=0,
    )
    meta: dict[str, Any] = {
        "gwexp_version": __version__,
        "python": platform.python_version(),
        "host": platform.node(),
        "simulator_seed": gateway.seed,
    }
    result = build_result(measurement, load, gateway.label, meta)
    path = write_result(result, output_dir)
    if result.client.warning:
        log.warning("%s", result.client.warning)
    log.info(
        "%s: %.2f events/s over %.1f s, p50 %s ms, p95 %s ms, %s; %s",
        result.status,
        result.events_per_sec,
        result.window_s,
        format_ms(result.latency_ms.p50),
        format_ms(result.latency_ms.p95),
        counted(result.faults_total, "fault"),
        path,
    )
    if tracking_context is not None:
        track_run(cfg, output_dir, tracking_context)
    return result


def write_outcome(outcome: JobOutcome, output_dir: Path) -> None:
    """Record how the job ended, for the sweep summary."""
    output_dir.mkdir(parents=True, exist_ok=True)
    data = {"status": outcome.status, "error": outcome.error}
    (output_dir / OUTCOME_FILE).write_text(json.dumps(data) + "\n")
