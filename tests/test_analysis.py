"""Scaling fits and knee detection on exact, hand-checked numbers; the plots' data."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from gwexp.analysis import JobPoint, analyze_sweep, find_knee, fit_line

TAGS = [6, 24, 60, 120]
# The published dev-galaxy bench: events/s at 6, 24, 60 and 120 tags.
PUBLISHED_EPS = [2.0, 8.0, 20.0, 41.0]
# The saturating profile: 0.34 events/s per tag up to a 30 events/s ceiling.
SATURATED_EPS = [2.04, 8.16, 20.4, 30.0]


def test_a_line_fit_matches_the_textbook_formulas() -> None:
    fit = fit_line(TAGS, PUBLISHED_EPS, "tags", "events/s")

    assert fit.possible and fit.line is not None
    x, y = np.array(TAGS, float), np.array(PUBLISHED_EPS)
    slope, intercept = np.polyfit(x, y, 1)
    residuals = y - (intercept + slope * x)
    sxx = ((x - x.mean()) ** 2).sum()
    stderr = math.sqrt((residuals**2).sum() / 2 / sxx)
    t = stats.t.ppf(0.975, 2)
    line = fit.line
    assert line.slope == pytest.approx(slope)
    assert line.intercept == pytest.approx(intercept)
    assert line.r2 == pytest.approx(
        1 - (residuals**2).sum() / ((y - y.mean()) ** 2).sum()
    )
    assert line.slope_ci95_low == pytest.approx(slope - t * stderr)
    assert line.slope_ci95_high == pytest.approx(slope + t * stderr)
    assert line.p_value == pytest.approx(2 * stats.t.sf(slope / stderr, 2))
    # The published figures are linear at about 0.34 events/s per tag.
    assert line.slope_ci95_low < 0.34 < line.slope_ci95_high
    assert line.r2 > 0.99


def test_the_confidence_band_surrounds_the_line_and_is_narrowest_at_the_mean() -> None:
    line = fit_line(TAGS, PUBLISHED_EPS).line
    assert line is not None
    widths = {}
    for x in (6.0, line.x_mean, 120.0):
        low, high = line.band(x)
        assert low < line.predict(x) < high
        widths[x] = high - low
    assert widths[line.x_mean] < widths[6.0]
    assert widths[line.x_mean] < widths[120.0]


def test_an_exact_line_has_r2_one_and_a_zero_width_interval() -> None:
    line = fit_line([1, 2, 3, 4], [3, 5, 7, 9]).line
    assert line is not None
    assert (line.slope, line.intercept, line.r2) == pytest.approx((2.0, 1.0, 1.0))
    assert line.slope_ci95_low == pytest.approx(2.0)
    assert line.slope_ci95_high == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("xs", "ys"),
    [([], []), ([60], [20.0]), ([6, 24], [2.0, 8.0]), ([6, 6, 24, 24], [2, 2, 8, 8])],
)
def test_fewer_than_three_distinct_loads_is_reported_not_fitted(
    xs: list[float], ys: list[float]
) -> None:
    fit = fit_line(xs, ys, "tags subscribed", "events/s")

    assert not fit.possible
    assert fit.line is None
    assert "need at least 3" in fit.reason
    assert fit.metrics("scaling") == {}
    assert "not possible" in fit.describe()


def test_a_flat_response_fits_slope_zero_without_nan() -> None:
    fit = fit_line([6, 24, 60], [30.0, 30.0, 30.0])

    values = fit.metrics("scaling")
    assert values["scaling_slope"] == 0.0
    assert values["scaling_p_value"] == 1.0
    assert all(math.isfinite(v) for v in values.values())


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="must match"):
        fit_line([1, 2, 3], [1, 2])


def test_a_ceiling_inside_the_range_is_a_knee_at_the_last_linear_point() -> None:
    knee = find_knee(TAGS, SATURATED_EPS)

    assert knee.possible and knee.found
    assert knee.x == 60
    assert knee.slope_before == pytest.approx(0.34)
    assert knee.slope_after == pytest.approx((30.0 - 20.4) / 60)
    assert knee.metrics("tags") == {
        "knee_found": 1.0,
        "knee_tags": 60.0,
        "knee_slope_before": pytest.approx(0.34),
        "knee_slope_after": pytest.approx(0.16),
    }


def test_a_plateau_is_found_where_it_starts() -> None:
    xs = [6, 24, 48, 72, 96, 120]
    knee = find_knee(xs, [min(0.34 * x, 30.0) for x in xs])

    assert knee.found
    # Placed between the measured loads: the ceiling is reached at 30 / 0.34.
    assert knee.x == pytest.approx(30 / 0.34, abs=0.5)
    assert knee.slope_before == pytest.approx(0.34, abs=0.01)
    assert knee.slope_after == pytest.approx(0.0, abs=0.01)


def test_linear_growth_has_no_knee() -> None:
    knee = find_knee(TAGS, PUBLISHED_EPS)

    assert knee.possible and not knee.found
    assert knee.reason.startswith("none")
    assert knee.metrics("tags") == {"knee_found": 0.0}


def test_growth_that_speeds_up_is_not_a_knee() -> None:
    # The published session bench: 1, 2, 4, 8 sessions of 120 tags.
    assert not find_knee([120, 240, 480, 960], [44, 81, 130, 324]).found


def test_noise_of_20_s_windows_rarely_reads_as_a_knee() -> None:
    rng = np.random.default_rng(7)
    linear = [
        find_knee(TAGS, [rng.poisson(0.34 * x * 20) / 20 for x in TAGS]).found
        for _ in range(300)
    ]
    saturated = [
        find_knee(TAGS, [rng.poisson(min(0.34 * x, 30) * 20) / 20 for x in TAGS]).found
        for _ in range(300)
    ]
    assert sum(linear) / 300 < 0.03
    assert sum(saturated) / 300 > 0.95


def test_short_windows_are_too_noisy_to_show_a_knee() -> None:
    # Poisson counts of 5 s windows: without the windows about one sweep in
    # nine of a straight line reads as a knee (2.6, 8.2, 22.2, 36.0 did).
    assert find_knee(TAGS, [2.6, 8.2, 22.2, 36.0]).found
    knee = find_knee(TAGS, [2.6, 8.2, 22.2, 36.0], [5.0] * 4)
    assert not knee.found
    assert "within the counting noise" in knee.reason
    rng = np.random.default_rng(11)
    linear = [
        find_knee(TAGS, [rng.poisson(0.34 * x * 5) / 5 for x in TAGS], [5.0] * 4).found
        for _ in range(300)
    ]
    assert sum(linear) / 300 < 0.02


def test_with_20_s_windows_known_a_ceiling_is_still_found() -> None:
    rng = np.random.default_rng(12)
    windows = [20.0] * 4
    saturated = [
        find_knee(
            TAGS, [rng.poisson(min(0.34 * x, 30) * 20) / 20 for x in TAGS], windows
        ).found
        for _ in range(300)
    ]
    assert sum(saturated) / 300 > 0.93
    knee = find_knee(TAGS, SATURATED_EPS, windows)
    assert knee.found and knee.x == 60


def test_fewer_than_four_distinct_loads_cannot_show_a_knee() -> None:
    knee = find_knee([6, 24, 60], [2, 8, 20])

    assert not knee.possible and not knee.found
    assert knee.reason.startswith("not possible")
    assert knee.metrics("tags") == {}


def test_a_sweep_analysis_names_every_metric_and_never_holds_nan() -> None:
    points = [
        JobPoint(i, x, y, 17.0 + i * 0.1, 34.0 - i * 0.1, {"bulk_size": float(x)})
        for i, (x, y) in enumerate(zip(TAGS, SATURATED_EPS, strict=True))
    ]
    analysis = analyze_sweep(points, ["bulk_size"])

    values = analysis.metrics()
    for prefix in ("scaling", "latency_p50", "latency_p95", "scaling_by_bulk_size"):
        for suffix in ("slope", "intercept", "r2", "slope_ci95_low", "p_value"):
            assert f"{prefix}_{suffix}" in values
    assert values["knee_found"] == 1.0
    assert values["knee_tags"] == 60.0
    assert values["scaling_points"] == 4.0
    assert values["latency_p50_slope"] > 0
    assert all(math.isfinite(v) for v in values.values())
    assert analysis.summary()["fits"]["throughput"]["possible"] is True


def test_a_two_point_sweep_reports_every_fit_as_not_possible() -> None:
    points = [JobPoint(0, 6, 2.0, None, None), JobPoint(1, 24, 8.0, 17.0, 34.0)]
    analysis = analyze_sweep(points, [])

    assert not analysis.throughput.possible
    assert not analysis.latency["p50"].possible
    assert not analysis.knee.possible
    assert analysis.metrics() == {"scaling_points": 2.0}


def test_latency_plot_spectrum_matches_hdr_percentiles(tmp_path: Path) -> None:
    from gwexp import plots
    from gwexp.stats import encode_histogram, new_histogram

    draw = random.Random(3)
    histogram = new_histogram()
    for _ in range(359):
        histogram.record_value(int(draw.lognormvariate(9.7, 0.5)))
    values_us, counts = plots._recorded(histogram)
    assert int(counts.sum()) == histogram.get_total_count()
    cumulative = np.cumsum(counts)
    for pct in (0.0, 50.0, 90.0, 99.0, 99.9, 100.0):
        wanted = max(1, int(np.floor(pct / 100 * 359 + 0.5)))
        top = histogram.get_highest_equivalent_value(
            int(values_us[int(np.searchsorted(cumulative, wanted))])
        )
        if pct:
            assert top == histogram.get_value_at_percentile(pct)
    path = plots.plot_latency_distribution(
        encode_histogram(histogram), tmp_path / "latency.png", "test"
    )
    assert path.stat().st_size > 10_000
