"""A miner's API account and password, from the environment only.

``SITEBENCH_MINER_ACCOUNT`` (each firmware's own default account when unset: ``root`` on Braiins OS+ and
stock Antminer) and ``SITEBENCH_MINER_PASSWORD``. A password set to the empty string counts as given (a unit
whose account has no password set). Neither is ever printed, journaled or
put in a knob's spec; text a miner sends back is scrubbed of the password before it is shown.
"""

from __future__ import annotations

import os

from bench.miners.protocol.write import ACCOUNT_ENV, PASSWORD_ENV

__all__ = ["ACCOUNT_ENV", "PASSWORD_ENV", "credentials", "lacking", "scrub"]


def lacking() -> str | None:
    """None when a password is in the environment; otherwise one line saying what is missing."""
    if PASSWORD_ENV in os.environ:
        return None
    return f"no miner password: set {PASSWORD_ENV} (and {ACCOUNT_ENV} when the account is not the firmware's default)"


def credentials(default_account: str) -> tuple[str, str] | None:
    """``(account, password)``, or None when no password is set."""
    if PASSWORD_ENV not in os.environ:
        return None
    return os.environ.get(ACCOUNT_ENV) or default_account, os.environ[PASSWORD_ENV]


def scrub(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters, without the password (a firmware may echo a request)."""
    password = os.environ.get(PASSWORD_ENV)
    text = text.replace(password, "***") if password else text
    return text[:limit].replace("\n", " ")
