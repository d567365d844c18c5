"""What a run measured, before it becomes a result: sessions, faults, client load."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gwexp.stats import SessionStats


@dataclass
class Fault:
    """Something that makes a result less complete; kept with when it happened."""

    # failed_open, refused_item, stream_error, queue_overflow, worker, sequence_gap,
    # gateway_fault, stalled
    kind: str
    # 1-based session index, or None for the run as a whole.
    session: int | None
    # Seconds since the run started.
    at_s: float
    code: str
    message: str


@dataclass
class SessionRun:
    """Everything one session did during the run."""

    index: int
    tags: Sequence[str]
    stats: SessionStats = field(default_factory=SessionStats)
    session_id: str | None = None
    server_handle: int | None = None
    item_handles: list[int] = field(default_factory=list)
    open_s: float | None = None
    subscribe_s: float | None = None
    final_state: str | None = None
    stream_resumes: int = 0
    faults: list[Fault] = field(default_factory=list)

    @property
    def subscribed(self) -> bool:
        """True once the session's stream was started."""
        return self.subscribe_s is not None

    def add_fault(self, fault: Fault) -> None:
        """Keep the first fault of each kind; a later report of it adds nothing."""
        if fault.kind == "refused_item" or all(
            f.kind != fault.kind for f in self.faults
        ):
            self.faults.append(fault)


@dataclass
class ClientLoad:
    """How hard the measuring client itself worked during the window."""

    # CPU seconds this process used in the window (all threads).
    cpu_s: float = 0.0
    # Event-loop lateness, sampled at each progress tick, in seconds.
    lag_max_s: float = 0.0
    lag_sum_s: float = 0.0
    lag_samples: int = 0

    def add_lag(self, lag_s: float) -> None:
        """Account one sample of how late the loop woke."""
        lag_s = max(0.0, lag_s)
        self.lag_max_s = max(self.lag_max_s, lag_s)
        self.lag_sum_s += lag_s
        self.lag_samples += 1


@dataclass
class Measurement:
    """The raw outcome of a run, before it becomes a result."""

    sessions: list[SessionRun]
    window_start_ns: int | None = None
    window_end_ns: int | None = None
    open_phase_s: float = 0.0
    warmup_phase_s: float = 0.0
    window_phase_s: float = 0.0
    cleanup_phase_s: float = 0.0
    interrupted: bool = False
    # Why the run ended before its window, when on_open_failure=stop did it.
    stopped_reason: str | None = None
    # One entry per client process that measured.
    clients: list[ClientLoad] = field(default_factory=lambda: [ClientLoad()])
