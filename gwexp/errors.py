"""The exceptions gwexp raises on purpose, and the exit status of each.

    GwexpError                  exit 1: anything gwexp reports as one line
    +-- ConfigError             exit 2: a bad config value, found before any open
    +-- GatewayError            exit 3: the gateway cannot be used at all
    |   +-- GatewayUnreachable  exit 3: nothing answers gRPC at the endpoint
    |   +-- AuthError           exit 4: the API key is missing, wrong or lacks a scope
    +-- RunFailed               exit 5: the run (or a sweep job) ended without a result
    +-- TrackingError           exit 6: the MLflow store could not be written

A run that completes with faults (failed opens, overflow, gaps) is not an
error: it writes its result and the faults are in it.
"""

from __future__ import annotations


class GwexpError(Exception):
    """A failure gwexp explains in one line; the CLI prints it and exits."""

    exit_status = 1


class ConfigError(GwexpError):
    """A config value is invalid; the message names the key, value and fix."""

    exit_status = 2


class GatewayError(GwexpError):
    """The gateway refused or could not serve the whole run."""

    exit_status = 3


class GatewayUnreachable(GatewayError):
    """No gRPC server answered at the endpoint within the connect time."""


class AuthError(GatewayError):
    """The gateway refused the API key (UNAUTHENTICATED or PERMISSION_DENIED)."""

    exit_status = 4


class RunFailed(GwexpError):
    """A run ended without a usable result."""

    exit_status = 5


class TrackingError(GwexpError):
    """The MLflow tracking store could not be written."""

    exit_status = 6


def unreadable_folder(folder: object, error: Exception) -> ConfigError:
    """One line for a run folder holding a file that does not parse."""
    detail = " ".join(str(error).split())
    return ConfigError(
        f"{folder} cannot be read: {detail}; give the output folder of a run "
        "as gwexp left it"
    )
