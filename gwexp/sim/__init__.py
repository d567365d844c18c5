"""A simulated MXAccess gRPC gateway that speaks the contract in ``protos/``.

It shares nothing with the gwexp client but the contract: it imports only
``gwexp.sim`` and ``gwexp.proto``. Run it embedded (``EmbeddedGateway``) or
standalone (``python -m gwexp.sim --port 5000``).

How each refusal and fault reaches a client:

- OpenSession: ``protocol_status`` SESSION_LIMIT_REACHED or
  WORKER_STARTUP_TIMEOUT (no gRPC error, no session).
- Invoke / CloseSession on an unknown session: SESSION_NOT_FOUND; Invoke on a
  faulted session: the fault's code (DRAIN_EVENTS still answers); a command
  the simulator does not model, or a wrong payload: INVALID_REQUEST.
- StreamEvents: unknown session NOT_FOUND; second subscriber
  FAILED_PRECONDITION ``EventSubscriberAlreadyActive: ...``; queue overflow
  RESOURCE_EXHAUSTED ``EventQueueOverflow: ...``; worker crash ABORTED
  ``WorkerUnavailable: ...``; dropped stream UNAVAILABLE
  ``stream dropped by gateway`` (the session stays READY); session closed or
  gateway stopped: a clean end (OK).
- API keys: missing or unknown UNAUTHENTICATED, missing scope
  PERMISSION_DENIED.
"""

from gwexp.sim.embedded import EmbeddedGateway
from gwexp.sim.profile import (
    DelayModel,
    FaultPlan,
    Profile,
    available_profiles,
    load_profile,
)
from gwexp.sim.server import SimulatedGateway

__all__ = [
    "DelayModel",
    "EmbeddedGateway",
    "FaultPlan",
    "Profile",
    "SimulatedGateway",
    "available_profiles",
    "load_profile",
]
