"""Run a simulated gateway on a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from gwexp.sim.profile import Profile
from gwexp.sim.server import SimulatedGateway

logger = logging.getLogger(__name__)

# Seconds start() waits for the server to bind and stop() for the thread.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class EmbeddedGateway:
    """A simulated gateway serving on a free loopback port from a daemon thread.

    The server's event loop belongs to the thread, so callers may run their
    own grpc.aio client on any other loop (``asyncio.run`` included).
    """

    def __init__(
        self,
        profile: Profile,
        seed: int = 0,
        api_keys: Sequence[str] = (),
        tls_cert_file: str | Path | None = None,
        tls_key_file: str | Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        # Built here so that bad keys or TLS files fail in the caller's thread.
        self._gateway = SimulatedGateway(
            profile, seed, api_keys, tls_cert_file, tls_key_file
        )
        self.host = host
        self.port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None

    @property
    def address(self) -> str:
        """``host:port`` to dial; only valid after start()."""
        if self.port is None:
            raise RuntimeError("the embedded gateway is not started: call start()")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def session_count(self) -> int:
        """Sessions the gateway holds open now, e.g. to check a client closed them."""
        return self._gateway.session_count

    def start(self) -> str:
        """Start serving on a free port; return the address to dial."""
        if self._thread is not None:
            return self.address
        started: concurrent.futures.Future[int] = concurrent.futures.Future()
        thread = threading.Thread(
            target=self._run, args=(started,), name="gwexp-sim", daemon=True
        )
        thread.start()
        try:
            self.port = started.result(timeout=START_TIMEOUT_S)
        except BaseException:
            thread.join(STOP_TIMEOUT_S)
            raise
        self._thread = thread
        logger.debug("embedded gateway serving on %s", self.address)
        return self.address

    def stop(self) -> None:
        """End every stream and session, stop the server and join the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        loop, stop_requested = self._loop, self._stop_requested
        if loop is not None and stop_requested is not None and thread.is_alive():
            # The loop may close between the check and the call; then nothing
            # is left to stop.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop_requested.set)
        thread.join(STOP_TIMEOUT_S)
        if thread.is_alive():
            logger.warning(
                "the embedded gateway thread did not stop within %g s",
                STOP_TIMEOUT_S,
            )
        self.port = None

    def __enter__(self) -> EmbeddedGateway:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, started: concurrent.futures.Future[int]) -> None:
        asyncio.run(self._serve(started))

    async def _serve(self, started: concurrent.futures.Future[int]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        try:
            port = await self._gateway.start(self.host, 0)
        except BaseException as error:
            started.set_exception(error)
            return
        started.set_result(port)

        await self._stop_requested.wait()
        await self._gateway.stop()
