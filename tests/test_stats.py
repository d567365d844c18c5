"""Per-session accounting: window split, continuity, latency and merging."""

from __future__ import annotations

import pytest

from gwexp.stats import (
    NS_PER_S,
    PENDING_BUCKETS_LIMIT,
    SessionStats,
    decode_histogram,
    encode_histogram,
    merge_histograms,
    summarize,
)

MS = 1_000_000


def _stats_with_window(start_ns: int, seconds: int) -> SessionStats:
    stats = SessionStats()
    stats.set_window(start_ns, start_ns + seconds * NS_PER_S)
    return stats


def test_events_before_the_window_are_warmup_and_after_it_late() -> None:
    stats = SessionStats()
    stats.record(1, 0, 5 * MS)
    stats.set_window(10 * NS_PER_S, 12 * NS_PER_S)
    stats.record(2, 9 * NS_PER_S, 9 * NS_PER_S + 17 * MS)
    stats.record(3, 10 * NS_PER_S, 10 * NS_PER_S + 17 * MS)
    stats.record(4, 11 * NS_PER_S, 11 * NS_PER_S + 34 * MS)
    stats.record(5, 12 * NS_PER_S, 12 * NS_PER_S + 1 * MS)
    assert (stats.warmup_events, stats.events, stats.late_events) == (2, 2, 1)
    assert stats.per_second == [1, 1]
    assert stats.histogram.get_total_count() == 2


def test_sequence_gaps_count_lost_events_and_reordering() -> None:
    stats = _stats_with_window(0, 1)
    for sequence in (1, 2, 5, 6, 4, 10):
        stats.record(sequence, 0, 1)
    assert stats.sequence_gaps == 2
    assert stats.lost_events == 2 + 3
    assert stats.out_of_order == 1
    assert stats.last_sequence == 10


def test_negative_latency_is_counted_never_clamped() -> None:
    stats = _stats_with_window(0, 1)
    stats.record(1, 5 * MS, 2 * MS)
    stats.record(2, 1 * MS, 18 * MS)
    assert stats.negative_latency == 1
    assert stats.min_latency_ns == -3 * MS
    summary = summarize(stats.histogram, stats.negative_latency, stats.min_latency_ns)
    assert summary.count == 1
    assert summary.min_negative == -3.0
    assert abs(summary.p50 - 17.0) < 0.02  # type: ignore[operator]


def test_summary_percentiles_in_milliseconds() -> None:
    stats = _stats_with_window(0, 2)
    for i in range(1, 101):
        stats.record(i, 0, i * MS)
    summary = summarize(stats.histogram)
    assert summary.count == 100
    assert abs(summary.p50 - 50) < 0.1  # type: ignore[operator]
    assert abs(summary.p95 - 95) < 0.1  # type: ignore[operator]
    assert abs(summary.max - 100) < 0.1  # type: ignore[operator]
    assert abs(summary.mean - 50.5) < 0.1  # type: ignore[operator]


def test_empty_summary_has_no_numbers() -> None:
    summary = summarize(SessionStats().histogram)
    assert summary.count == 0
    assert summary.p50 is None and summary.max is None


def test_merge_is_exact_and_survives_encoding() -> None:
    first, second = _stats_with_window(0, 1), _stats_with_window(0, 1)
    for i in range(1, 1001):
        first.record(i, 0, 10 * MS + i * 1000)
        second.record(i, 0, 40 * MS + i * 1000)
    decoded = [decode_histogram(encode_histogram(s.histogram)) for s in (first, second)]
    merged = merge_histograms(decoded)
    direct = merge_histograms([first.histogram, second.histogram])
    assert merged.get_total_count() == 2000
    for pct in (1, 50, 90, 99.9, 100):
        assert merged.get_value_at_percentile(pct) == direct.get_value_at_percentile(
            pct
        )
    assert 10_000 < merged.get_value_at_percentile(25) < 11_100
    assert 40_000 < merged.get_value_at_percentile(75) < 41_100


def test_session_stats_cross_a_process_boundary_exactly() -> None:
    import pickle

    stats = _stats_with_window(0, 2)
    for i in range(1, 501):
        stats.record(i, 0, i * MS)
    copy = pickle.loads(pickle.dumps(stats))
    assert copy.events == 500
    assert copy.per_second == stats.per_second
    assert copy.histogram.get_total_count() == 500
    assert copy.histogram.get_value_at_percentile(99) == (
        stats.histogram.get_value_at_percentile(99)
    )


def test_bucketed_recording_matches_recording_every_value() -> None:
    import random

    from gwexp.stats import new_histogram

    draw = random.Random(7)
    stats = _stats_with_window(0, 10)
    direct = new_histogram()
    for sequence in range(1, 20_001):
        latency_us = int(draw.lognormvariate(9.7, 1.5))  # 1 us to minutes
        stats.record(sequence, 0, latency_us * 1000)
        direct.record_value(latency_us)
        if sequence % 3_000 == 0:
            stats.flush()
    assert list(stats.histogram.counts) == list(direct.counts)
    for pct in (0, 50, 99, 99.99, 100):
        assert stats.histogram.get_value_at_percentile(pct) == (
            direct.get_value_at_percentile(pct)
        )
    assert stats.histogram.get_max_value() == direct.get_max_value()
    assert stats.histogram.get_min_value() == direct.get_min_value()


def test_pending_buckets_are_bounded() -> None:
    from gwexp.stats import new_histogram

    stats = _stats_with_window(0, 10)
    # One distinct histogram bucket per event.
    latency_us, buckets = 1, new_histogram()
    for sequence in range(1, PENDING_BUCKETS_LIMIT + 2):
        stats.record(sequence, 0, latency_us * 1000)
        latency_us = buckets.get_highest_equivalent_value(latency_us) + 1
        if sequence == PENDING_BUCKETS_LIMIT:
            stats.flush_if_large()
            assert stats._histogram.get_total_count() == 0  # not over the limit
    stats.flush_if_large()
    assert stats._histogram.get_total_count() == PENDING_BUCKETS_LIMIT + 1
    assert stats._pending == {}


def test_arrivals_are_accounted_in_bulk() -> None:
    bulk = _stats_with_window(10 * NS_PER_S, 2)
    single = _stats_with_window(10 * NS_PER_S, 2)
    # (sequence, worker ms, received ms): warm-up, in order, a gap of two, out
    # of order, a negative latency in second 1, late.
    rows = [
        (1, 9_500, 9_600),
        (2, 10_000, 10_017),
        (5, 10_100, 10_200),
        (4, 10_300, 10_310),
        (6, 11_500, 11_490),
        (7, 11_900, 12_100),
    ]
    for sequence, worker_ms, received_ms in rows:
        seconds, nanos = divmod(worker_ms * MS, NS_PER_S)
        bulk.arrivals.append((sequence, seconds, nanos, received_ms * MS))
        single.record(sequence, worker_ms * MS, received_ms * MS)
    bulk.account()

    assert bulk.arrivals == []
    assert (bulk.sequence_gaps, bulk.lost_events, bulk.out_of_order) == (1, 2, 1)
    assert (bulk.warmup_events, bulk.events, bulk.late_events) == (1, 4, 1)
    assert (bulk.negative_latency, bulk.min_latency_ns) == (1, -10 * MS)
    assert bulk.per_second == [3, 1]
    assert bulk.last_sequence == 7
    # From 10,310 to 11,490 ms; then 510 ms to the window's end, or 3 s to 14 s.
    assert bulk.longest_silence_until(12 * NS_PER_S) == 1_180 * MS
    assert bulk.longest_silence_until(14_490 * MS) == 3_000 * MS
    assert summarize(bulk.histogram).p50 == pytest.approx(17.0, rel=1e-3)
    for name in vars(single):
        if name not in ("_histogram", "_pending"):
            assert getattr(bulk, name) == getattr(single, name), name
    assert list(bulk.histogram.counts) == list(single.histogram.counts)
