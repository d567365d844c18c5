"""``python -m gwexp.sim`` as a separate process."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys

import grpc
import pytest
from simclient import Client

from gwexp.proto import mxaccess_gateway_pb2 as pb

LISTENING = re.compile(r"INFO gwexp\.sim: listening on 127\.0\.0\.1:(\d+)$")


def launch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gwexp.sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serves_until_a_signal_then_exits_cleanly(stop_signal: int) -> None:
    process = launch(
        "--port",
        "0",
        "--profile",
        "loopback",
        "--set",
        "time_scale=0.05",
        "--api-key",
        "mxgw_cli_secret=sessions",
    )
    try:
        assert process.stderr is not None
        first_line = process.stderr.readline().rstrip("\n")
        match = LISTENING.search(first_line)
        assert match, first_line
        address = f"127.0.0.1:{match.group(1)}"

        async def scenario() -> pb.OpenSessionReply:
            async with grpc.aio.insecure_channel(address) as channel:
                return await Client(channel, "mxgw_cli_secret").open()

        reply = asyncio.run(scenario())
        process.send_signal(stop_signal)
        stdout, rest = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert reply.protocol_status.code == pb.PROTOCOL_STATUS_CODE_OK
    assert process.returncode == 0
    assert stdout == ""
    assert "secret" not in first_line + rest
    assert "Traceback" not in rest
    assert " INFO " not in rest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: --port"),
        (["--port", "x"], "argument --port: invalid int value: 'x'"),
        (["--port", "0", "--profile", "nope"], "profile='nope' is invalid"),
        (["--port", "0", "--set", "colour=3"], "unknown profile key 'colour'"),
        (["--port", "0", "--set", "machines"], "--set 'machines' is invalid"),
        (["--port", "0", "--api-key", "bad"], "api key #1 is invalid"),
        (["--port", "70000"], "--port=70000 is invalid: must be 0-65535"),
        (["--port", "0", "--tls-cert", "/nonexistent.pem"], "give both or neither"),
    ],
)
def test_bad_arguments_print_one_error_line(args: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gwexp.sim", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gwexp.sim: error: ")
    assert message in lines[0]
