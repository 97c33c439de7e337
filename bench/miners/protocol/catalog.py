"""What each miner model should have: chips per board, boards, and its nameplate figures.

Chips per board and boards per unit are the makers' build figures as collected in
pyasic's model table (``pyasic/miners/device/models``, Apache-2.0); nameplate hash
rate and power are the manufacturer-declared figures of sitebench's reference table
(one file per model in ``builtin:declared/``). A model not listed here
has unknown expected chips: a board is then judged against its sibling boards only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """Build and nameplate figures of one model (None where not known)."""

    make: str
    model: str
    chips_per_board: int | None
    boards: int = 3
    nameplate_ths: float | None = None
    nameplate_w: float | None = None

    @property
    def j_per_th(self) -> float | None:
        """Nameplate J/TH (W per TH/s)."""
        if self.nameplate_ths and self.nameplate_w:
            return self.nameplate_w / self.nameplate_ths
        return None


_SPECS = [
    ModelSpec("Bitmain", "Antminer S19", 76, 3, 95, 3250),
    ModelSpec("Bitmain", "Antminer S19 Pro", 114, 3, 110, 3250),
    ModelSpec("Bitmain", "Antminer S19 XP", 110, 3, 140, 3010),
    ModelSpec("Bitmain", "Antminer S19j Pro", 126, 3),
    ModelSpec("Bitmain", "Antminer S21", 108, 3, 200, 3500),
    ModelSpec("Bitmain", "Antminer S21 Pro", 65, 3, 234, 3531),
    ModelSpec("Bitmain", "Antminer S21 XP", 91, 3, 270, 3645),
    ModelSpec("Bitmain", "Antminer S21+ Hydro", 95, 3, 319, 4785),
    ModelSpec("Bitmain", "Antminer S21 Hydro", 216, 3),
    ModelSpec("Canaan", "Avalon A1366", None, 3, 130, 3250),
    ModelSpec("Canaan", "Avalon A1346", None, 3, 110, 3300),
    ModelSpec("Canaan", "Avalon A1246", 120, 3),
    ModelSpec("MicroBT", "Whatsminer M50 VH50", 105, 3),
    ModelSpec("MicroBT", "Whatsminer M50 VH60", 84, 3),
    ModelSpec("MicroBT", "Whatsminer M50S VH50", 105, 3),
    ModelSpec("MicroBT", "Whatsminer M60 VK10", 164, 3),
    ModelSpec("MicroBT", "Whatsminer M60 VK20", 172, 3),
    ModelSpec("MicroBT", "Whatsminer M60 VK30", 215, 3),
    ModelSpec("MicroBT", "Whatsminer M60 VK40", 180, 3),
]


def _key(text: str) -> str:
    text = text.lower().replace("antminer", "").replace("whatsminer", "").replace("avalonminer", "avalon a")
    text = re.sub(r"\(.*?\)|bitmain|canaan|microbt|avalon", "", text)
    return re.sub(r"[^a-z0-9+]", "", text)


_BY_KEY = {_key(s.model): s for s in _SPECS}


def lookup(model: str) -> ModelSpec | None:
    """The spec of ``model`` as a firmware spells it (``"Antminer S19 Pro"``, ``"S19Pro"``,
    ``"M50.VH50"``, ``"M50_VH50"``, ``"1366"``), or None."""
    key = _key(model)
    if key in _BY_KEY:
        return _BY_KEY[key]
    if key.isdigit():  # Avalon firmwares report "1366" or "AvalonMiner 1366"
        return _BY_KEY.get(f"a{key}")
    return None
