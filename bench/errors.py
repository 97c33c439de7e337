"""Errors that the CLI turns into one line and a documented exit code.

Exit codes: 0 success, 1 a check or run failed, 2 a usage error.
"""

from __future__ import annotations


class SitebenchError(Exception):
    """Base class: carries the exit code the CLI returns for it."""

    exit_code = 1


class UsageError(SitebenchError):
    """Bad option, unknown workload or device, unreadable input: exit 2."""

    exit_code = 2


class CheckFailed(SitebenchError):
    """A check failed (invalid file, regression, verification failure): exit 1."""

    exit_code = 1


class InvalidResultFile(CheckFailed):
    """A result file that is not JSON or not a valid ``sitebench.result`` document.

    The message names the file and the JSON path at fault.
    """

    def __init__(self, path: str, json_path: str, message: str) -> None:
        self.path = path
        self.json_path = json_path
        self.reason = message
        super().__init__(f"{path}: {json_path}: {message}")


class VerificationError(CheckFailed):
    """A workload's output disagreed with its independent reference."""


class MeterUnavailable(SitebenchError):
    """A power meter cannot work on this machine; the message says why (exit 2 when the user named it)."""

    exit_code = 2


class MeterReadError(SitebenchError):
    """A meter that worked failed one read; the sampler records a gap."""


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C (the run in progress is recorded as interrupted).

    The command exits with 128 + the signal number, as a shell reports a process the signal killed.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum
