"""A miner holding itself back for heat, in its own words: firmware protection codes per window, as throttle.

Of the firmwares sitebench reads, only one reports, poll by poll, that it is protecting itself from heat:
**Whatsminer API v2**, whose ``summary`` lists the error codes the firmware holds now (``Error Code N``).
MicroBT's codes, as pyasic's table (``pyasic/data/error_codes/whatsminer.py``) gives them, that mean the
miner or its power supply is limiting itself for temperature:

=========  =======================================================  ================================
code       MicroBT's message                                        reason recorded
=========  =======================================================  ================================
203, 204   power (current) protecting due to high environment temp  ``psu_heat_protection``
233-235    power output high temperature protection                 ``psu_heat_protection``
243-245    power input high temperature protection                  ``psu_heat_protection``
350-359    slot N temperature protecting                            ``board_temperature_protection``
360-363    hashboard high temperature                               ``board_overheat``
383        humidity sensor protecting                               ``humidity_protection``
600        environment temperature is too high                      ``environment_too_hot``
610        environment temperature too high for high performance    ``environment_too_hot_for_mode``
=========  =======================================================  ================================

Every other code (a fan, a chip, a pool) is not a throttle and is left out. Each poll's reasons hold until
the next poll (sample-and-hold, as NVML's clock-event reasons do: :func:`bench.power.window.thermal.throttle`),
and any of them counts as throttled.

Not read, and why: API v3's ``get.miner.status`` carries no error codes (they are in ``get.device.info``,
not polled); a stock Antminer, Braiins OS (its Dynamic Performance Scaling is a setting, not a state the
API reports), LuxOS (ATM steps profiles down when hot, which its polled replies do not say) and Avalon
report no such signal. For them the soak says that the time throttled is unknown, never 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bench.miners.protocol.model import Poll
from bench.power.window.thermal import Bounds, throttle
from bench.record.thermal import Throttle

#: Whatsminer error code -> the reason recorded (see the module's table).
PROTECTION: dict[int, str] = {
    203: "psu_heat_protection", 204: "psu_heat_protection",
    **{c: "psu_heat_protection" for c in (233, 234, 235, 243, 244, 245)},
    **{c: "board_temperature_protection" for c in range(350, 360)},
    **{c: "board_overheat" for c in range(360, 364)},
    383: "humidity_protection", 600: "environment_too_hot", 610: "environment_too_hot_for_mode",
}
METHOD = ("the firmware's own protection codes in each poll (Whatsminer API v2 summary Error Code N: "
          + ", ".join(sorted({f"{r}" for r in PROTECTION.values()}))
          + "); each poll's codes held until the next poll; throttled: any of them")
_CODE = re.compile(r"^\s*(\d{3,6})\s*$")


def reports_protection(poll: Poll) -> bool:
    """Whether this miner's firmware lists its protection codes in every poll (Whatsminer API v2)."""
    return poll.identity.family == "whatsminer" and poll.identity.protocol == "cgminer"


def reasons(poll: Poll) -> list[str]:
    """The heat-protection reasons active in one poll (its error codes that are one), each once, in order."""
    found = []
    for text in poll.errors:
        m = _CODE.match(text)
        reason = PROTECTION.get(int(m.group(1))) if m else None
        if reason is not None and reason not in found:
            found.append(reason)
    return found


def miner_throttle(polls: Sequence[Poll], device: str, bounds: Bounds, period_s: float) -> Throttle | None:
    """The miner's throttle per window from its protection codes; None where its firmware reports none."""
    if not polls or not reports_protection(polls[0]):
        return None
    th = throttle(device, "miner", [(p.t, reasons(p)) for p in polls], bounds, period_s)
    return th.model_copy(update={"method": METHOD + f"; polled every {period_s:.3g} s"})
