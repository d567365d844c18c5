"""Serve a simulated gateway until SIGINT or SIGTERM: ``python -m gwexp.sim``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import NoReturn

from gwexp.sim.profile import available_profiles, load_profile
from gwexp.sim.server import SimulatedGateway

logger = logging.getLogger("gwexp.sim")

PROG = "gwexp.sim"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, no usage block: the caller may be a script reading stderr.
        self.exit(2, f"{PROG}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = _Parser(
        prog=f"python -m {PROG}",
        description="Serve the simulated MXAccess gRPC gateway.",
    )
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--profile",
        default="dev_galaxy",
        help=f"one of {', '.join(available_profiles())}",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="mxgw_<id>_<secret>[=scope,...]; repeatable; none: no auth",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a profile field, e.g. delay.median_ms=5; repeatable",
    )
    parser.add_argument("--tls-cert", metavar="PEM")
    parser.add_argument("--tls-key", metavar="PEM")
    parser.add_argument("-v", "--verbose", action="store_true", help="DEBUG logs")
    return parser


def _overrides(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise ValueError(f"--set {pair!r} is invalid: must look like key=value")
        overrides[key.strip()] = value
    return overrides


async def _serve(gateway: SimulatedGateway, host: str, port: int) -> None:
    stop_requested = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)

    bound = await gateway.start(host, port)
    shown_host = f"[{host}]" if ":" in host else host
    logger.info("listening on %s:%d", shown_host, bound)
    await stop_requested.wait()
    await gateway.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; return the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if not 0 <= args.port <= 65535:
            raise ValueError(f"--port={args.port} is invalid: must be 0-65535")
        profile = load_profile(args.profile, _overrides(args.set))
        gateway = SimulatedGateway(
            profile, args.seed, args.api_key, args.tls_cert, args.tls_key
        )
    except ValueError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2

    try:
        asyncio.run(_serve(gateway, args.host, args.port))
    except OSError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # SIGINT before the handler was installed: still a requested stop.
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
