"""Scaling fits over a sweep's runs: straight lines with 95% intervals, and knees.

Pure functions of numbers: no files, no MLflow, no Hydra. A fit needs at least
three distinct x values and a knee at least four; with fewer the result says
so in words and carries no numbers, so nothing downstream ever sees a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

# Fewest distinct x values a line is fitted to: two points always fit exactly.
MIN_DISTINCT_X_FIT = 3
# Fewest distinct x values for a knee: the two-segment model has three parameters.
MIN_DISTINCT_X_KNEE = 4
CONFIDENCE = 0.95
# A knee needs the slope after it below this fraction of the slope before it.
# 0.7 keeps the ~10% slope noise of 20 s windows from reading as a knee, and
# still catches a ceiling reached inside the swept range (ratio 0.5 or less).
KNEE_SLOPE_RATIO = 0.7
# ... and the two-segment model must leave at most this fraction of the single
# line's squared residuals: the bend must explain most of what the line misses.
KNEE_RESIDUAL_RATIO = 0.2
# Grid points tried between a found knee's measured neighbours to place it.
KNEE_REFINE_STEPS = 200
# ... and, when each point's window is known, the bend must beat the Poisson
# counting noise of the rates: the two-segment model must lower chi-square by
# at least this (a chance of 0.01 for one extra parameter).
KNEE_MIN_CHI2_DROP = 6.63


@dataclass(frozen=True)
class Line:
    """A least-squares line y = intercept + slope * x with its uncertainty."""

    slope: float
    intercept: float
    r2: float
    slope_ci95_low: float
    slope_ci95_high: float
    # Two-sided p-value of the slope against zero.
    p_value: float
    # What the confidence band needs: residual standard deviation, the x mean,
    # the sum of squared x deviations, the point count and Student's t quantile.
    residual_std: float
    x_mean: float
    sxx: float
    points: int
    t_crit: float

    def predict(self, x: float) -> float:
        """The fitted y at x."""
        return self.intercept + self.slope * x

    def band(self, x: float) -> tuple[float, float]:
        """The 95% confidence interval of the fitted mean y at x."""
        half = (
            self.t_crit
            * self.residual_std
            * math.sqrt(1.0 / self.points + (x - self.x_mean) ** 2 / self.sxx)
        )
        y = self.predict(x)
        return y - half, y + half


@dataclass(frozen=True)
class Fit:
    """A fit of y against x over the given points, or the reason there is none."""

    x_name: str
    y_name: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    # None when the fit is not possible; `reason` says why.
    line: Line | None
    reason: str = ""

    @property
    def possible(self) -> bool:
        """Whether a line was fitted."""
        return self.line is not None

    def metrics(self, prefix: str) -> dict[str, float]:
        """The fit's numbers as <prefix>_slope, ..._r2, ...; empty when not possible."""
        if self.line is None:
            return {}
        line = self.line
        return {
            f"{prefix}_slope": line.slope,
            f"{prefix}_intercept": line.intercept,
            f"{prefix}_r2": line.r2,
            f"{prefix}_slope_ci95_low": line.slope_ci95_low,
            f"{prefix}_slope_ci95_high": line.slope_ci95_high,
            f"{prefix}_p_value": line.p_value,
        }

    def describe(self) -> str:
        """One line for logs and tags: the slope with its interval, or the reason."""
        if self.line is None:
            return f"{self.y_name} against {self.x_name}: not possible, {self.reason}"
        line = self.line
        return (
            f"{self.y_name} against {self.x_name}: slope {line.slope:.4g} "
            f"(95% CI {line.slope_ci95_low:.4g} to {line.slope_ci95_high:.4g}), "
            f"r2 {line.r2:.4f}, p {line.p_value:.3g}, {line.points} points"
        )


@dataclass(frozen=True)
class Knee:
    """Where y stops growing linearly with x, if it does."""

    # False when there were too few points to look for one; `reason` says why.
    possible: bool
    found: bool
    reason: str
    # The last x on the linear part, and the slopes of the two segments.
    x: float | None = None
    slope_before: float | None = None
    slope_after: float | None = None

    def metrics(self, x_label: str = "x") -> dict[str, float]:
        """knee_found and, when found, knee_<x_label> and the slopes either side."""
        if not self.possible:
            return {}
        values = {"knee_found": 1.0 if self.found else 0.0}
        if self.found and self.x is not None:
            values[f"knee_{x_label}"] = self.x
            values["knee_slope_before"] = self.slope_before or 0.0
            values["knee_slope_after"] = self.slope_after or 0.0
        return values


def fit_line(
    xs: Sequence[float], ys: Sequence[float], x_name: str = "x", y_name: str = "y"
) -> Fit:
    """Least squares with a t-based 95% interval on the slope, r2 and p-value."""
    if len(xs) != len(ys):
        raise ValueError(f"xs has {len(xs)} values but ys has {len(ys)}: must match")
    x_values = tuple(float(x) for x in xs)
    y_values = tuple(float(y) for y in ys)
    distinct = len(set(x_values))
    if distinct < MIN_DISTINCT_X_FIT:
        reason = (
            f"{distinct} distinct {x_name} value(s), need at least {MIN_DISTINCT_X_FIT}"
        )
        return Fit(x_name, y_name, x_values, y_values, None, reason)

    x = np.asarray(x_values)
    y = np.asarray(y_values)
    n = len(x)
    x_mean = float(x.mean())
    sxx = float(((x - x_mean) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    t_crit = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 2))
    if ss_tot == 0.0:
        # A flat y: the slope is exactly 0 and there is no variation to explain.
        line = Line(0.0, float(y[0]), 0.0, 0.0, 0.0, 1.0, 0.0, x_mean, sxx, n, t_crit)
        return Fit(x_name, y_name, x_values, y_values, line)

    result = stats.linregress(x, y)
    slope = float(result.slope)
    intercept = float(result.intercept)
    residuals = y - (intercept + slope * x)
    ss_res = float((residuals**2).sum())
    stderr = float(result.stderr)
    line = Line(
        slope=slope,
        intercept=intercept,
        r2=max(0.0, 1.0 - ss_res / ss_tot),
        slope_ci95_low=slope - t_crit * stderr,
        slope_ci95_high=slope + t_crit * stderr,
        p_value=float(result.pvalue),
        residual_std=math.sqrt(ss_res / (n - 2)),
        x_mean=x_mean,
        sxx=sxx,
        points=n,
        t_crit=t_crit,
    )
    return Fit(x_name, y_name, x_values, y_values, line)


def find_knee(
    xs: Sequence[float], ys: Sequence[float], windows_s: Sequence[float] | None = None
) -> Knee:
    """Look for the x after which y grows clearly slower than before.

    Each interior distinct x is tried as the joint of a continuous two-segment
    line; the best joint is a knee when the later slope is below
    KNEE_SLOPE_RATIO of the earlier one and the two segments leave at most
    KNEE_RESIDUAL_RATIO of the single line's squared residuals. The decision
    uses joints at measured x only, so both models are judged on the same
    footing; the knee's position is then refined between the neighbouring
    measured x values.

    Given each y's window (y is then a rate of counted events), the fits weigh
    each point by the inverse of its Poisson variance, y / window, and the bend
    must also lower chi-square by KNEE_MIN_CHI2_DROP: a few short windows are
    too noisy to show a knee.
    """
    x = np.asarray([float(v) for v in xs])
    y = np.asarray([float(v) for v in ys])
    weights = np.ones_like(x)
    if windows_s is not None:
        w = np.asarray([float(v) for v in windows_s])
        # A rate of zero still has the variance of one event in the window.
        weights = w / np.maximum(y, 1.0 / w)
    distinct = sorted(set(x.tolist()))
    if len(distinct) < MIN_DISTINCT_X_KNEE:
        reason = (
            f"not possible: {len(distinct)} distinct loads, "
            f"need at least {MIN_DISTINCT_X_KNEE}"
        )
        return Knee(possible=False, found=False, reason=reason)

    line_sse = _sse(np.column_stack([np.ones_like(x), x]), y, weights)[0]
    fits = [_hinge(x, y, joint, weights) for joint in distinct[1:-1]]
    index = min(range(len(fits)), key=lambda i: fits[i][0])
    sse, joint, before, after = fits[index]

    bends = before > 0 and after < KNEE_SLOPE_RATIO * before
    explains = sse <= KNEE_RESIDUAL_RATIO * line_sse
    beats_noise = windows_s is None or line_sse - sse >= KNEE_MIN_CHI2_DROP
    if not (bends and explains and beats_noise):
        why = (
            "the slope does not drop enough"
            if not bends
            else "a line fits as well"
            if not explains
            else "the bend is within the counting noise of the windows"
        )
        summary = f"slope {before:.4g} then {after:.4g} after {joint:g}"
        return Knee(True, False, f"none: {why} (best joint: {summary})")

    low, high = distinct[index], distinct[index + 2]
    _, joint, before, after = _refine(x, y, joint, low, high, weights)
    summary = f"slope {before:.4g} then {after:.4g} after {joint:.4g}"
    return Knee(True, True, f"knee at {joint:.4g}: {summary}", joint, before, after)


def _hinge(
    x: np.ndarray, y: np.ndarray, joint: float, weights: np.ndarray
) -> tuple[float, float, float, float]:
    """Squared residuals, joint and both slopes of a continuous two-segment fit."""
    design = np.column_stack([np.ones_like(x), x, np.maximum(0.0, x - joint)])
    sse, coef = _sse(design, y, weights)
    return sse, joint, float(coef[1]), float(coef[1] + coef[2])


def _refine(
    x: np.ndarray,
    y: np.ndarray,
    joint: float,
    low: float,
    high: float,
    weights: np.ndarray,
) -> tuple[float, float, float, float]:
    """The best joint on a grid between the neighbours; ties go to the measured one."""
    grid = np.linspace(low, high, KNEE_REFINE_STEPS + 2)[1:-1]
    best = _hinge(x, y, joint, weights)
    tolerance = 1e-9 * max(1.0, float((weights * y**2).sum()))
    for candidate in grid:
        fit = _hinge(x, y, float(candidate), weights)
        closer = abs(candidate - joint) < abs(best[1] - joint)
        if fit[0] < best[0] - tolerance or (fit[0] <= best[0] + tolerance and closer):
            best = fit
    return best


def _sse(
    design: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted squared residuals and coefficients of the least-squares solution."""
    root = np.sqrt(weights)
    coef, _, _, _ = np.linalg.lstsq(design * root[:, None], y * root, rcond=None)
    residuals = y - design @ coef
    return float((weights * residuals**2).sum()), coef


@dataclass(frozen=True)
class JobPoint:
    """One sweep job's load and what it measured."""

    job: int
    tags_subscribed: float
    events_per_sec: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    # Numeric values of the keys the sweep varied, by dotted key.
    params: Mapping[str, float] = field(default_factory=dict)
    # The measured window the rate was counted over; None when unknown.
    window_s: float | None = None


@dataclass(frozen=True)
class SweepAnalysis:
    """Throughput and latency against load over a sweep, and its knee."""

    throughput: Fit
    knee: Knee
    # By percentile name: p50, p95.
    latency: Mapping[str, Fit]
    # Events/s against each numeric key the sweep varied.
    by_param: Mapping[str, Fit]

    def metrics(self) -> dict[str, float]:
        """Every number as an MLflow metric; keys of impossible fits are absent."""
        values = {"scaling_points": float(len(self.throughput.xs))}
        values.update(self.throughput.metrics("scaling"))
        values.update(self.knee.metrics("tags"))
        for name, fit in self.latency.items():
            values.update(fit.metrics(f"latency_{name}"))
        for key, fit in self.by_param.items():
            values.update(fit.metrics(f"scaling_by_{metric_key(key)}"))
        return values

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account: each fit's one-line description and numbers."""
        fits = {"throughput": self.throughput}
        fits.update({f"latency_{k}": v for k, v in self.latency.items()})
        fits.update({f"by_{k}": v for k, v in self.by_param.items()})
        return {
            "fits": {
                name: {
                    "possible": fit.possible,
                    "description": fit.describe(),
                    "x": list(fit.xs),
                    "y": list(fit.ys),
                    "line": None if fit.line is None else vars(fit.line),
                }
                for name, fit in fits.items()
            },
            "knee": vars(self.knee),
            "metrics": self.metrics(),
        }


def metric_key(key: str) -> str:
    """A dotted config key as a metric name part: dots become underscores."""
    return key.replace(".", "_")


def analyze_sweep(points: Sequence[JobPoint], params: Sequence[str]) -> SweepAnalysis:
    """Fit events/s and latency against subscribed tags, and against each param."""
    tags = [p.tags_subscribed for p in points]
    rates = [p.events_per_sec for p in points]
    throughput = fit_line(tags, rates, "tags subscribed", "events/s")
    latency = {}
    for name in ("p50", "p95"):
        pairs = [
            (p.tags_subscribed, getattr(p, f"latency_{name}_ms"))
            for p in points
            if getattr(p, f"latency_{name}_ms") is not None
        ]
        latency[name] = fit_line(
            [x for x, _ in pairs],
            [y for _, y in pairs],
            "tags subscribed",
            f"latency {name} (ms)",
        )
    by_param = {}
    for key in params:
        pairs = [(p.params[key], p.events_per_sec) for p in points if key in p.params]
        by_param[key] = fit_line(
            [x for x, _ in pairs], [y for _, y in pairs], key, "events/s"
        )
    # The knee is judged against counting noise when every window is known.
    windows = [p.window_s for p in points if p.window_s is not None]
    knee = find_knee(tags, rates, windows if len(windows) == len(points) else None)
    return SweepAnalysis(throughput, knee, latency, by_param)
