"""Shared helpers: run gwexp as a user would, and Poisson bounds for rates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
# Fast simulator settings: many changes per tag so short windows give tight
# bounds, and worker starts scaled down 50x (0.6 s -> 12 ms, 30 s -> 0.6 s).
FAST = (
    "gateway.profile=loopback",
    "+gateway.overrides.change_rate_hz=5",
    "+gateway.overrides.time_scale=0.02",
    "warmup_s=0.5",
    "duration_s=3",
    "stagger_ms=50",
)


def poisson_bounds(
    rate_eps: float, window_s: float, p: float = 0.999
) -> tuple[float, float]:
    """The rate interval a Poisson count over the window falls in with probability p."""
    low, high = stats.poisson.interval(p, rate_eps * window_s)
    return low / window_s, high / window_s


def run_gwexp(
    *overrides: str, env: dict[str, str] | None = None, timeout_s: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m gwexp`` in a subprocess from the project root."""
    return subprocess.run(
        [sys.executable, "-m", "gwexp", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
    )


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file as a dict."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def no_tracking() -> str:
    """Override that keeps a test's runs out of MLflow."""
    return "tracking.enabled=false"
