"""PNG plots of one run (latency distribution, rate timeline) and of a sweep's fits.

Figures are drawn on matplotlib's Agg canvas without pyplot, so no GUI backend
or global figure state is involved and plots can be made from any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from hdrh.histogram import HdrHistogram
from matplotlib.figure import Figure

from gwexp.analysis import Fit, Knee
from gwexp.stats import decode_histogram

DPI = 110
# Percentile spectrum out to 99.99%: nines beyond that need more samples than
# a 20 s window at tens of events/s gives.
SPECTRUM_NINES = 4
SPECTRUM_STEPS = 200
BAND_STEPS = 100


def plot_latency_distribution(histogram_b64: str, path: Path, title: str) -> Path:
    """Latency histogram and percentile spectrum of an encoded HDR histogram, in ms."""
    histogram = decode_histogram(histogram_b64)
    figure = Figure(figsize=(10, 4), dpi=DPI)
    density, spectrum = figure.subplots(1, 2)
    figure.suptitle(title)
    total = int(histogram.get_total_count())
    if total == 0:
        for axes in (density, spectrum):
            axes.text(0.5, 0.5, "no events in the window", ha="center", va="center")
        return _save(figure, path)

    values_us, counts = _recorded(histogram)
    values_ms = values_us / 1000.0
    density.hist(
        values_ms, bins=min(60, max(10, len(values_ms))), weights=counts, color="C0"
    )
    density.set_xlabel("latency (ms)")
    density.set_ylabel("events")
    density.set_title(f"{total} events")

    nines = np.linspace(0.0, SPECTRUM_NINES, SPECTRUM_STEPS)
    fractions = 1.0 - 10.0 ** (-nines)
    # The value where the cumulative count first reaches each fraction, as
    # HdrHistogram's get_value_at_percentile finds it, for all fractions at once.
    cumulative = np.cumsum(counts)
    wanted = np.maximum(1, np.floor(fractions * total + 0.5))
    at = np.minimum(np.searchsorted(cumulative, wanted), len(values_us) - 1)
    tops = [histogram.get_highest_equivalent_value(int(v)) for v in values_us]
    spectrum.plot(nines, np.asarray(tops)[at] / 1000.0, color="C1")
    ticks = list(range(SPECTRUM_NINES + 1))
    spectrum.set_xticks(ticks)
    spectrum.set_xticklabels(
        [f"{100.0 * (1.0 - 10.0 ** (-k)):g}%" for k in ticks], rotation=0
    )
    spectrum.set_xlabel("percentile")
    spectrum.set_ylabel("latency (ms)")
    spectrum.set_title("percentile spectrum")
    spectrum.grid(alpha=0.3)
    return _save(figure, path)


def _recorded(histogram: HdrHistogram) -> tuple[np.ndarray, np.ndarray]:
    """The lowest value (us) and count of every non-empty bucket, in value order.

    hdrh's iterators step through every bucket in Python; numpy finds the few
    non-empty ones at once and hdrh converts only those indices to values.
    """
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    indices = np.flatnonzero(counts)
    values_us = np.array([histogram.get_value_from_index(int(i)) for i in indices])
    return values_us, counts[indices].astype(np.int64)


def plot_rate_timeline(rate_per_second: Sequence[int], path: Path, title: str) -> Path:
    """Events received in each second of the window, with their mean."""
    figure = Figure(figsize=(8, 3.5), dpi=DPI)
    axes = figure.subplots()
    edges_s = np.arange(len(rate_per_second) + 1)
    # No baseline: edges down to zero at either end would read as a drop.
    axes.stairs(rate_per_second, edges_s, baseline=None, color="C0", label="events/s")
    if len(rate_per_second) > 0:
        mean = float(np.mean(rate_per_second))
        axes.axhline(mean, color="C1", linestyle="--", label=f"mean {mean:.1f}")
    axes.set_xlabel("second of the measured window")
    axes.set_ylabel("events/s")
    axes.set_ylim(bottom=0)
    axes.set_title(title)
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def plot_fit(fit: Fit, path: Path, title: str, knee: Knee | None = None) -> Path:
    """The points, the fitted line and its 95% confidence band, and a found knee."""
    figure = Figure(figsize=(7, 4.5), dpi=DPI)
    axes = figure.subplots()
    axes.scatter(fit.xs, fit.ys, color="C0", zorder=3, label="runs")
    if fit.line is not None and fit.xs:
        line = fit.line
        grid = np.linspace(min(fit.xs), max(fit.xs), BAND_STEPS)
        bands = [line.band(float(x)) for x in grid]
        axes.plot(
            grid,
            [line.predict(float(x)) for x in grid],
            color="C1",
            label=f"fit: slope {line.slope:.4g}, r2 {line.r2:.3f}",
        )
        axes.fill_between(
            grid,
            [low for low, _ in bands],
            [high for _, high in bands],
            color="C1",
            alpha=0.2,
            label="95% confidence band",
        )
    else:
        axes.text(
            0.5, 0.9, f"no fit: {fit.reason}", transform=axes.transAxes, ha="center"
        )
    if knee is not None and knee.found and knee.x is not None:
        axes.axvline(knee.x, color="C3", linestyle=":", label=f"knee at {knee.x:g}")
    axes.set_xlabel(fit.x_name)
    axes.set_ylabel(fit.y_name)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path
