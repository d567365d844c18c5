"""Per-session event statistics, split into warm-up and measured, and their merge.

Latency is recorded in microseconds in an HdrHistogram (1 us to 1 hour at 3
significant digits), so memory stays bounded however long the window.
A latency below zero means the two clocks disagree; such samples are counted
apart and never clamped into the histogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
        self._histogram = new_histogram()
        # Latency counts by histogram bucket, not yet added to the histogram:
        # a dict increment costs a tenth of hdrh's pure-Python record_value.
        self._pending: dict[int, int] = {}

    @property
    def histogram(self) -> HdrHistogram:
        """The window's latency histogram in microseconds, with every sample in it."""
        self.flush()
        return self._histogram

    def flush(self) -> None:
        """Add the pending bucket counts to the histogram."""
        record = self._histogram.record_value
        for value_us, count in self._pending.items():
            record(value_us, count)
        self._pending.clear()

    def __getstate__(self) -> dict[str, object]:
        # HdrHistogram objects do not pickle; their encoding is exact and compact.
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

    def record(self, sequence: int, worker_ns: int, received_ns: int) -> None:
        """Account one event; the only per-event work gwexp does."""
        expected = self.last_sequence + 1
        if sequence == expected:
            self.last_sequence = sequence
        elif sequence > expected:
            self.sequence_gaps += 1
            self.lost_events += sequence - expected
            self.last_sequence = sequence
        else:
            self.out_of_order += 1

        if received_ns < self.window_start_ns:
            self.warmup_events += 1
            return
        if received_ns >= self.window_end_ns:
            self.late_events += 1
            return

        self.events += 1
        self.per_second[(received_ns - self.window_start_ns) // NS_PER_S] += 1
        latency_ns = received_ns - worker_ns
        if latency_ns < 0:
            self.negative_latency += 1
            if self.min_latency_ns is None or latency_ns < self.min_latency_ns:
                self.min_latency_ns = latency_ns
            return
        # The bucket's lowest value stands for the sample: the histogram puts any
        # value of the bucket in the same count, so nothing is lost by it.
        latency_us = latency_ns // 1000
        shift = latency_us.bit_length() - SUB_BUCKET_BITS
        if shift > 0:
            latency_us = latency_us >> shift << shift
        pending = self._pending
        pending[latency_us] = pending.get(latency_us, 0) + 1


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
