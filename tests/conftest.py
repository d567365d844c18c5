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


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA and a server certificate it signed for 127.0.0.1/localhost.

    Returns (ca_cert, server_cert, server_key) PEM files.
    """
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    valid = {
        "not_valid_before": now - datetime.timedelta(minutes=5),
        "not_valid_after": now + datetime.timedelta(days=1),
    }
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gwexp test CA")])
    ca = (
        x509.CertificateBuilder(**valid)
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    server = (
        x509.CertificateBuilder(**valid)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(server.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def mlflow_uri(tmp_path: Path) -> str:
    """A fresh sqlite MLflow store in the test's folder, never the project's."""
    return f"sqlite:///{tmp_path / 'mlflow.db'}"
