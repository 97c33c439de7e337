"""What a write to a miner needs: where its credentials come from, and the Whatsminer API v3 token.

sitebench writes to a miner only through a knob (:mod:`bench.miners.protocol.knobs`), only when asked
(``miners run --power-target``), and always puts the original back. The account and its password come
from the environment only (``SITEBENCH_MINER_ACCOUNT``, ``SITEBENCH_MINER_PASSWORD``: read by
:mod:`bench.miners.protocol.knobs.credentials`), and neither is ever printed, logged, journaled or written
to a result file. On Whatsminer API v3 only a token derived from the password crosses the wire: the
first 8 characters of base64(SHA-256(command + password + salt + timestamp)), the salt from
``get.device.info``, as MicroBT's API v3 documents it and pyasic implements it.
"""

from __future__ import annotations

import base64
import hashlib

PASSWORD_ENV = "SITEBENCH_MINER_PASSWORD"
ACCOUNT_ENV = "SITEBENCH_MINER_ACCOUNT"
#: The one Whatsminer API v3 write command sitebench sends.
SET_POWER_LIMIT = "set.miner.power_limit"


def token(command: str, password: str, salt: str, ts: int) -> str:
    """The v3 token of a privileged command at ``ts`` (Unix seconds)."""
    digest = base64.b64encode(hashlib.sha256(f"{command}{password}{salt}{ts}".encode()).digest()).decode()
    return digest[:8]
