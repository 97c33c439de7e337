"""Whether this process may change a machine knob, known before anything is changed.

NVML's setters (power limit, locked clocks) and powercap's constraint files need root or
``CAP_SYS_ADMIN``. NVML only says so when a set is refused (``NVML_ERROR_NO_PERMISSION``), which
is too late for a sweep that must change nothing when it cannot change everything; so the
process's effective user and capabilities are read instead: ``os.geteuid() == 0``, or bit 21
(``CAP_SYS_ADMIN``) of ``CapEff`` in ``/proc/self/status``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The capability NVML and powercap writes need (linux/capability.h).
CAP_SYS_ADMIN = 21
#: Where the process's effective capabilities are read (Linux).
PROC_STATUS = Path("/proc/self/status")


def effective_capabilities(status: Path | None = None) -> int | None:
    """The ``CapEff`` mask of this process, or None where it cannot be read (not Linux)."""
    try:
        text = (status or PROC_STATUS).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("CapEff:"):
            try:
                return int(line.split(":", 1)[1].strip(), 16)
            except ValueError:
                return None
    return None


def is_admin() -> bool:
    """True when this process runs as root or holds ``CAP_SYS_ADMIN``."""
    if os.geteuid() == 0:
        return True
    caps = effective_capabilities()
    return caps is not None and bool(caps >> CAP_SYS_ADMIN & 1)


def lacking_admin() -> str | None:
    """None with root or ``CAP_SYS_ADMIN``; else one line saying what the process lacks."""
    if is_admin():
        return None
    return f"this process (uid {os.geteuid()}) is not root and lacks CAP_SYS_ADMIN"


def writable(path: Path) -> bool:
    """True when this process may write ``path`` (``os.access``; sysfs files are 0644 root:root)."""
    return os.access(path, os.W_OK)
