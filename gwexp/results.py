"""The versioned result of one run, built from a measurement and written to disk first.

Schema changelog (``schema_version``):
    1: first version.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gwexp.measurement import ClientLoad, Fault, Measurement, SessionRun
from gwexp.stats import (
    NS_PER_S,
    LatencySummary,
    RateSeries,
    encode_histogram,
    merge_histograms,
    summarize,
)

SCHEMA_VERSION = 1
RESULT_FILE = "result.json"
FAULT_KINDS = (
    "failed_open",
    "refused_item",
    "stream_error",
    "queue_overflow",
    "worker",
    "sequence_gap",
    "gateway_fault",
    "stalled",
)


@dataclass
class SessionResult:
    """What one session delivered in the measured window."""

    index: int
    session_id: str | None
    opened: bool
    subscribed: bool
    # Seconds OpenSession took (worker start-up included), and Register+Subscribe.
    open_s: float | None
    subscribe_s: float | None
    tags_requested: int
    tags_subscribed: int
    warmup_events: int
    events: int
    events_per_sec: float
    sequence_gaps: int
    lost_events: int
    out_of_order: int
    stream_resumes: int
    final_state: str | None
    latency_ms: LatencySummary


@dataclass
class Load:
    """The load the run put on the gateway."""

    bulk_size: int
    session_count: int
    stagger_ms: float
    warmup_s: float
    duration_s: float
    # Tags actually subscribed, summed over sessions: the load events scale with.
    tags_subscribed_total: int


@dataclass
class Phases:
    """Wall time of each phase, in seconds."""

    open_s: float
    warmup_s: float
    window_s: float
    cleanup_s: float


# A client process busier than this share of one core may be what limits the rate.
SATURATED_CPU_FRACTION = 0.85
# Mean event-loop lateness above this means events wait on the client, in ms.
SATURATED_MEAN_LAG_MS = 10.0
# Below this CPU share a late event loop was starved by other work on the
# machine, not busy with gwexp's: more client processes would not help.
STARVED_CPU_FRACTION = 0.5


@dataclass
class ClientVerdict:
    """Whether the measuring client, rather than the gateway, limited the run."""

    processes: int
    # Highest CPU use of one client process over the window, as a share of a core.
    cpu_fraction_max: float
    loop_lag_mean_ms: float
    loop_lag_max_ms: float
    saturated: bool
    warning: str | None


def judge_client(loads: list[ClientLoad], window_s: float) -> ClientVerdict:
    """Flag a run whose client processes were too busy to keep up."""
    cpu = (
        max((load.cpu_s / window_s for load in loads), default=0.0) if window_s else 0.0
    )
    samples = sum(load.lag_samples for load in loads)
    mean_ms = 1000 * sum(load.lag_sum_s for load in loads) / samples if samples else 0.0
    max_ms = 1000 * max((load.lag_max_s for load in loads), default=0.0)
    saturated = cpu >= SATURATED_CPU_FRACTION or mean_ms >= SATURATED_MEAN_LAG_MS
    warning = None
    if saturated:
        advice = (
            "raise client.processes"
            if cpu >= STARVED_CPU_FRACTION
            else "the client machine was busy with other work: measure again when "
            "it is quieter"
        )
        warning = (
            f"the client may have limited this run: a client process used "
            f"{cpu:.0%} of a core and its event loop was {mean_ms:.1f} ms late on "
            f"average ({max_ms:.0f} ms at worst); {advice}"
        )
    return ClientVerdict(len(loads), cpu, mean_ms, max_ms, saturated, warning)


@dataclass
class RunResult:
    """Everything a run measured; written as result.json."""

    schema_version: int
    # completed: no fault; faulted: faults are listed; stopped: on_open_failure=stop
    # ended it before the window; interrupted: Ctrl-C ended it early.
    status: str
    gateway: str
    load: Load
    # Seconds actually measured: the planned window, less when interrupted, 0 when
    # no session got to measure.
    window_s: float
    events_total: int
    events_per_sec: float
    warmup_events: int
    latency_ms: LatencySummary
    # Events received in each second of the window, all sessions together.
    rate_per_second: list[int]
    sessions: list[SessionResult]
    fault_counts: dict[str, int]
    faults: list[Fault]
    phases: Phases
    client: ClientVerdict
    # Merged latency histogram of the window, HdrHistogram's base64 encoding, in us.
    histogram: str
    # Why the run ended before its window (status stopped), else None.
    stopped_reason: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def faults_total(self) -> int:
        """Faults of every kind together."""
        return sum(self.fault_counts.values())


def build_result(
    measurement: Measurement, load: Load, gateway: str, meta: dict[str, Any]
) -> RunResult:
    """Turn a raw measurement into the result schema."""
    window_s = _window_s(measurement)
    sessions = [_session_result(s, window_s) for s in measurement.sessions]
    merged = merge_histograms(s.stats.histogram for s in measurement.sessions)
    negatives = sum(s.stats.negative_latency for s in measurement.sessions)
    minima = [s.stats.min_latency_ns for s in measurement.sessions]
    lowest = min((m for m in minima if m is not None), default=None)
    rates = RateSeries()
    for session in measurement.sessions:
        rates.add(session.stats.per_second)

    faults = sorted(
        (f for s in measurement.sessions for f in s.faults), key=lambda f: f.at_s
    )
    counts = Counter(f.kind for f in faults)
    fault_counts = {kind: counts.get(kind, 0) for kind in FAULT_KINDS}
    events_total = sum(s.events for s in sessions)
    if measurement.interrupted:
        status = "interrupted"
    elif measurement.stopped_reason:
        status = "stopped"
    elif faults:
        status = "faulted"
    else:
        status = "completed"
    return RunResult(
        schema_version=SCHEMA_VERSION,
        status=status,
        gateway=gateway,
        load=dataclasses.replace(
            load, tags_subscribed_total=sum(s.tags_subscribed for s in sessions)
        ),
        window_s=window_s,
        events_total=events_total,
        events_per_sec=events_total / window_s if window_s else 0.0,
        warmup_events=sum(s.warmup_events for s in sessions),
        latency_ms=summarize(merged, negatives, lowest),
        rate_per_second=rates.counts[: math.ceil(window_s)],
        sessions=sessions,
        fault_counts=fault_counts,
        faults=faults,
        phases=_phases(measurement),
        client=judge_client(measurement.clients, window_s),
        histogram=encode_histogram(merged),
        stopped_reason=measurement.stopped_reason,
        meta=meta,
    )


def _window_s(measurement: Measurement) -> float:
    """The window actually measured: cut short by Ctrl-C, a fatal error or the
    end of every stream, so that events/s is never diluted by time not measured.
    """
    if measurement.window_start_ns is None or measurement.window_end_ns is None:
        return 0.0
    planned = (measurement.window_end_ns - measurement.window_start_ns) / NS_PER_S
    return max(0.0, min(planned, measurement.window_phase_s))


def _session_result(session: SessionRun, window_s: float) -> SessionResult:
    stats = session.stats
    return SessionResult(
        index=session.index,
        session_id=session.session_id,
        opened=session.session_id is not None,
        subscribed=session.subscribed,
        open_s=session.open_s,
        subscribe_s=session.subscribe_s,
        tags_requested=len(session.tags),
        tags_subscribed=len(session.item_handles),
        warmup_events=stats.warmup_events,
        events=stats.events,
        events_per_sec=stats.events / window_s if window_s else 0.0,
        sequence_gaps=stats.sequence_gaps,
        lost_events=stats.lost_events,
        out_of_order=stats.out_of_order,
        stream_resumes=session.stream_resumes,
        final_state=session.final_state,
        latency_ms=summarize(
            stats.histogram, stats.negative_latency, stats.min_latency_ns
        ),
    )


def _phases(measurement: Measurement) -> Phases:
    return Phases(
        open_s=measurement.open_phase_s,
        warmup_s=measurement.warmup_phase_s,
        window_s=measurement.window_phase_s,
        cleanup_s=measurement.cleanup_phase_s,
    )


def result_to_dict(result: RunResult) -> dict[str, Any]:
    """The result as plain JSON-ready data, derived totals included."""
    data = dataclasses.asdict(result)
    data["faults_total"] = result.faults_total
    return data


def write_result(result: RunResult, directory: Path) -> Path:
    """Write result.json atomically, so a crash never leaves half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / RESULT_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(result_to_dict(result), indent=2) + "\n")
    os.replace(partial, path)
    return path


def read_result(path: Path) -> dict[str, Any]:
    """Load a result.json, refusing schema versions this gwexp does not know."""
    data: dict[str, Any] = json.loads(path.read_text())
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"{path}: schema_version={version!r} is not supported: "
            f"this gwexp reads version {SCHEMA_VERSION}"
        )
    return data
