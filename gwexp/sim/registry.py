"""The gateway's sessions: admission, worker start-up, leases and shutdown."""

from __future__ import annotations

import asyncio
import logging
import secrets

from gwexp.proto import mxaccess_gateway_pb2 as pb
from gwexp.sim.galaxy import Galaxy
from gwexp.sim.profile import Profile
from gwexp.sim.session import Session
from gwexp.sim.startup import StartupContention

logger = logging.getLogger(__name__)


class OpenRefused(Exception):
    """OpenSession could not produce a session; carries the protocol status."""

    def __init__(self, code: pb.ProtocolStatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SessionRegistry:
    """Every open session of one simulated gateway."""

    def __init__(self, profile: Profile, seed: int) -> None:
        self.profile = profile
        self.seed = seed
        self.galaxy = Galaxy(profile.machines, profile.attributes)
        self._sessions: dict[str, Session] = {}
        self._starting = 0
        self._arrivals = 0
        self._startup = StartupContention(
            profile.worker_start_s * profile.time_scale, profile.start_contention
        )
        self._lease_timers: dict[str, asyncio.TimerHandle] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> Session | None:
        """The session with this id, renewing its lease, or None."""
        session = self._sessions.get(session_id)
        if session is not None:
            session.touch()
        return session

    async def open(self) -> Session:
        """Admit a session and start its worker; raise OpenRefused on failure."""
        self._arrivals += 1
        ordinal = self._arrivals
        limit = self.profile.max_sessions
        if len(self._sessions) + self._starting >= limit:
            raise OpenRefused(
                pb.PROTOCOL_STATUS_CODE_SESSION_LIMIT_REACHED,
                f"SessionLimitReached: {limit} sessions are open or starting "
                f"(max_sessions={limit}); close one first",
            )

        timeout_s = self.profile.startup_timeout_s * self.profile.time_scale
        self._starting += 1
        try:
            started = await self._startup.start_worker(timeout_s)
        finally:
            self._starting -= 1
        if not started:
            raise OpenRefused(
                pb.PROTOCOL_STATUS_CODE_WORKER_STARTUP_TIMEOUT,
                f"WorkerStartupTimeout: the worker did not start within "
                f"{timeout_s:g} s; stagger session opens",
            )

        session_id = f"session-{secrets.token_hex(16)}"
        session = Session(session_id, ordinal, self.profile, self.galaxy, self.seed)
        self._sessions[session_id] = session
        self._arm_lease(session, self.profile.lease_s)
        logger.debug("opened %s (ordinal %d)", session_id, ordinal)
        return session

    def close(self, session_id: str) -> Session | None:
        """Close and forget a session; None if there is no such session."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            return None
        timer = self._lease_timers.pop(session_id, None)
        if timer is not None:
            timer.cancel()
        session.close()
        logger.debug("closed %s", session_id)
        return session

    def close_all(self) -> None:
        """Close every session and stop all timers (gateway shutdown)."""
        for session_id in list(self._sessions):
            self.close(session_id)
        self._startup.cancel_all()

    def _arm_lease(self, session: Session, delay_s: float) -> None:
        loop = asyncio.get_running_loop()
        self._lease_timers[session.session_id] = loop.call_later(
            delay_s, self._check_lease, session
        )

    def _check_lease(self, session: Session) -> None:
        # One timer per session that re-arms itself avoids touching a timer
        # on every call; an open stream counts as continuous use.
        loop = asyncio.get_running_loop()
        if session.subscriber is not None:
            session.touch()
        idle_s = loop.time() - session.last_touch
        lease_s = self.profile.lease_s
        if idle_s < lease_s:
            self._arm_lease(session, lease_s - idle_s)
            return
        logger.warning(
            "%s unused for %.1f s (lease_s=%g): closing it; clients should "
            "close their sessions or keep using them",
            session.session_id,
            idle_s,
            lease_s,
        )
        self._lease_timers.pop(session.session_id, None)
        self.close(session.session_id)
