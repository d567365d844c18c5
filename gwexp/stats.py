"""Per-session event statistics, split into warm-up and measured, and their merge.

The hot path only reads each event's sequence and worker timestamp, while the
message is fresh in the CPU's caches, and appends them with the receive time
to the session's ``arrivals``; :meth:`SessionStats.account` accounts them in
bulk with numpy. Accounting each event in Python as it arrived cost several
times as much CPU on a live stream, where gRPC's own work keeps evicting the
accounting code from the caches between events.

Latency is recorded in microseconds in an HdrHistogram (1 us to 1 hour at 3
significant digits), so memory stays bounded however long the window.
A latency below zero means the two clocks disagree; such samples are counted
apart and never clamped into the histogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

LATENCY_LOWEST_US = 1
LATENCY_HIGHEST_US = 3_600_000_000
LATENCY_SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}
# Until the window is set, every event is warm-up.
NOT_YET_NS = 2**63 - 1
NS_PER_S = 1_000_000_000
# Values of this many bits are exact in the histogram; above it, a bucket spans
# 2**(bits - SUB_BUCKET_BITS) microseconds (HdrHistogram's sub-bucket count is
# the smallest power of two holding 2 * 10**LATENCY_SIGNIFICANT_DIGITS).
SUB_BUCKET_BITS = (2 * 10**LATENCY_SIGNIFICANT_DIGITS - 1).bit_length()
# Distinct latency buckets a session holds before adding them to its histogram.
# Adding costs ~1.4 us a bucket, so it is done seldom: at 7,200 events/s a
# tenth of a second brings ~480 new buckets, a whole window a few thousand.
PENDING_BUCKETS_LIMIT = 4096


Int64s = npt.NDArray[np.int64]


# One received event: worker sequence, worker timestamp's seconds and nanos,
# receive time in ns.
Arrival = tuple[int, int, int, int]


def new_histogram() -> HdrHistogram:
    """An empty latency histogram in microseconds."""
    return HdrHistogram(
        LATENCY_LOWEST_US, LATENCY_HIGHEST_US, LATENCY_SIGNIFICANT_DIGITS
    )


class SessionStats:
    """One session's stream: continuity always; rate and latency in the window."""

    def __init__(self) -> None:
        self.window_start_ns = NOT_YET_NS
        self.window_end_ns = NOT_YET_NS
        self.last_sequence = 0
        self.sequence_gaps = 0
        self.lost_events = 0
        self.out_of_order = 0
        self.warmup_events = 0
        self.events = 0
        self.late_events = 0
        self.negative_latency = 0
        self.min_latency_ns: int | None = None
        self.per_second: list[int] = []
        # Receive time of the window's latest event, and the longest time the
        # window went without one (from its start, between events).
        self.last_received_ns: int | None = None
        self.longest_silence_ns = 0
        self._histogram = new_histogram()
        # Latency counts by histogram bucket, not yet added to the histogram:
        # a dict increment costs a tenth of hdrh's pure-Python record_value.
        self._pending: dict[int, int] = {}
        # Events received and not yet accounted, in arrival order.
        self.arrivals: list[Arrival] = []

    @property
    def histogram(self) -> HdrHistogram:
        """The window's latency histogram in microseconds, with every sample in it."""
        self.flush()
        return self._histogram

    def flush_if_large(self) -> None:
        """Add the pending bucket counts to the histogram once they are many."""
        if len(self._pending) > PENDING_BUCKETS_LIMIT:
            self.flush()

    def flush(self) -> None:
        """Add the pending bucket counts to the histogram."""
        record = self._histogram.record_value
        for value_us, count in self._pending.items():
            record(value_us, count)
        self._pending.clear()

    def __getstate__(self) -> dict[str, object]:
        # HdrHistogram objects do not pickle; their encoding is exact and compact.
        # Accounted first, so that no arrival is left behind (or sent along).
        self.account()
        state = dict(self.__dict__)
        state["_histogram"] = encode_histogram(self.histogram)
        state["_pending"] = {}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        encoded = state["_histogram"]
        assert isinstance(encoded, str)
        self._histogram = decode_histogram(encoded)

    def set_window(self, start_ns: int, end_ns: int) -> None:
        """Measure events received in [start_ns, end_ns) of the wall clock."""
        self.window_start_ns = start_ns
        self.window_end_ns = end_ns
        seconds = -(-(end_ns - start_ns) // NS_PER_S)
        self.per_second = [0] * seconds

    def account(self) -> None:
        """Account every event in ``arrivals`` and empty it."""
        if not self.arrivals:
            return
        columns = np.array(self.arrivals, np.int64).T
        # Cleared in place: the stream's loop holds arrivals.append.
        self.arrivals.clear()
        sequences, seconds, nanos, received_ns = columns
        self.record_many(sequences, seconds * NS_PER_S + nanos, received_ns)

    def record(self, sequence: int, worker_ns: int, received_ns: int) -> None:
        """Account one event."""
        one = np.array([[sequence], [worker_ns], [received_ns]], np.int64)
        self.record_many(one[0], one[1], one[2])

    def record_many(
        self, sequences: Int64s, worker_ns: Int64s, received_ns: Int64s
    ) -> None:
        """Account events given in arrival order, one array per field."""
        self._check_continuity(sequences)
        warmup = received_ns < self.window_start_ns
        late = received_ns >= self.window_end_ns
        self.warmup_events += int(np.count_nonzero(warmup))
        self.late_events += int(np.count_nonzero(late))
        measured = ~(warmup | late)
        received_ns = received_ns[measured]
        if not received_ns.size:
            return
        self.events += int(received_ns.size)
        self._count_seconds((received_ns - self.window_start_ns) // NS_PER_S)
        self._note_silences(received_ns)
        latency_ns = received_ns - worker_ns[measured]
        negative = latency_ns < 0
        if negative.any():
            self.negative_latency += int(np.count_nonzero(negative))
            lowest = int(latency_ns[negative].min())
            if self.min_latency_ns is None or lowest < self.min_latency_ns:
                self.min_latency_ns = lowest
            latency_ns = latency_ns[~negative]
        self._count_latencies(latency_ns // 1000)

    def _check_continuity(self, sequences: Int64s) -> None:
        # The sequence each event should have carried: one past the highest
        # seen before it. Above that is a gap; below it, out of order.
        highest = np.maximum.accumulate(np.append(self.last_sequence, sequences))
        expected = highest[:-1] + 1
        ahead = sequences > expected
        self.sequence_gaps += int(np.count_nonzero(ahead))
        self.lost_events += int((sequences[ahead] - expected[ahead]).sum())
        self.out_of_order += int(np.count_nonzero(sequences < expected))
        self.last_sequence = int(highest[-1])

    def _quiet_since_ns(self) -> int:
        """When the current silence began: the last event, or the window's start."""
        if self.last_received_ns is None:
            return self.window_start_ns
        return self.last_received_ns

    def _note_silences(self, received_ns: Int64s) -> None:
        gaps = np.diff(received_ns, prepend=self._quiet_since_ns())
        self.longest_silence_ns = max(self.longest_silence_ns, int(gaps.max()))
        self.last_received_ns = int(received_ns[-1])

    def longest_silence_until(self, end_ns: int) -> int:
        """The window's longest time without an event, counting its end at end_ns."""
        return max(self.longest_silence_ns, end_ns - self._quiet_since_ns())

    def _count_seconds(self, seconds: Int64s) -> None:
        first = int(seconds.min())
        for offset, count in enumerate(np.bincount(seconds - first).tolist()):
            if count:
                self.per_second[first + offset] += count

    def _count_latencies(self, latency_us: Int64s) -> None:
        # Each sample is counted under its bucket's lowest value: the histogram
        # puts any value of the bucket in the same count, so nothing is lost.
        # frexp's exponent is the bit length, exactly, below 2**53.
        bits = np.frexp(latency_us.astype(np.float64))[1]
        shift = np.maximum(bits - SUB_BUCKET_BITS, 0)
        buckets, counts = np.unique(latency_us >> shift << shift, return_counts=True)
        pending = self._pending
        for value_us, count in zip(buckets.tolist(), counts.tolist(), strict=True):
            pending[value_us] = pending.get(value_us, 0) + count


@dataclass
class LatencySummary:
    """Latency percentiles of the measured window, in milliseconds."""

    count: int
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    p999: float | None
    max: float | None
    mean: float | None
    negative_count: int = 0
    # The most negative sample, when clocks disagreed; None when there was none.
    min_negative: float | None = None


def summarize(
    histogram: HdrHistogram, negative_count: int = 0, min_negative_ns: int | None = None
) -> LatencySummary:
    """Percentiles of a histogram in milliseconds; None where it is empty."""
    count = int(histogram.get_total_count())
    min_negative = None if min_negative_ns is None else min_negative_ns / 1e6
    if count == 0:
        return LatencySummary(
            0, None, None, None, None, None, None, None, negative_count, min_negative
        )
    values = {
        name: histogram.get_value_at_percentile(pct) / 1000.0
        for name, pct in PERCENTILES.items()
    }
    return LatencySummary(
        count=count,
        max=histogram.get_max_value() / 1000.0,
        mean=histogram.get_mean_value() / 1000.0,
        negative_count=negative_count,
        min_negative=min_negative,
        **values,
    )


def merge_histograms(histograms: Iterable[HdrHistogram]) -> HdrHistogram:
    """One histogram holding every sample of the given ones, exactly."""
    merged = new_histogram()
    for histogram in histograms:
        merged.add(histogram)
    return merged


def encode_histogram(histogram: HdrHistogram) -> str:
    """The histogram in HdrHistogram's compressed base64 form, as text."""
    encoded: bytes = histogram.encode()
    return encoded.decode("ascii")


def decode_histogram(text: str) -> HdrHistogram:
    """The inverse of :func:`encode_histogram`."""
    histogram: HdrHistogram = HdrHistogram.decode(text.encode("ascii"))
    return histogram


@dataclass
class RateSeries:
    """Events received in each whole second of the window, summed over sessions."""

    counts: list[int] = field(default_factory=list)

    def add(self, counts: list[int]) -> None:
        """Add one session's per-second counts."""
        if len(counts) > len(self.counts):
            self.counts.extend([0] * (len(counts) - len(self.counts)))
        for second, count in enumerate(counts):
            self.counts[second] += count
