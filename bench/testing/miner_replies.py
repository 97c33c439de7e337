"""The replies a simulated miner sends, shaped like each firmware's (see :mod:`bench.testing.miners`).

Field names and layouts follow the firmwares' APIs as the normalisers read them
(:mod:`bench.miners.protocol.cgminer`, :mod:`bench.miners.protocol.whatsminer`); numbers are rounded the
way the firmwares print them (``GHS av`` with two decimals, ``Elapsed`` in whole seconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class State:
    """A simulated miner at one instant (all figures exact; the replies round them)."""

    family: str
    model: str
    elapsed: float
    hashes: float
    rate_hs: float
    nominal_hs: float
    accepted: int
    rejected: int
    diff_accepted: float
    diff_rejected: float
    hw_errors: int
    power_w: float | None
    chips: tuple[int, ...]
    chips_expected: int
    stable: bool
    difficulty: float


def _watts(key: str, s: State) -> dict[str, Any]:
    """The firmware's power field, left out when the simulated miner reports no power (``power_w`` None)."""
    return {} if s.power_w is None else {key: round(s.power_w)}


def _status(msg: str) -> list[dict[str, Any]]:
    return [{"STATUS": "S", "When": 1700000000, "Code": 11, "Msg": msg, "Description": "sim"}]


def _ok(key: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"STATUS": _status(key.title()), key: records, "id": 1}


def _summary(s: State, unit: str, scale: float) -> dict[str, Any]:
    return {
        "Elapsed": int(s.elapsed), f"{unit}HS 5s": round(s.rate_hs / scale, 2),
        f"{unit}HS av": round(s.hashes / max(s.elapsed, 1e-9) / scale, 2),
        "Accepted": s.accepted, "Rejected": s.rejected, "Stale": 0, "Hardware Errors": s.hw_errors,
        "Total MH": round(s.hashes / 1e6, 4), "Difficulty Accepted": s.diff_accepted,
        "Difficulty Rejected": s.diff_rejected, "Difficulty Stale": 0.0,
        "Device Hardware%": round(100 * s.hw_errors / max(s.hw_errors + s.hashes / 2**32, 1), 4),
    }


def _pools(s: State) -> dict[str, Any]:
    return _ok("POOLS", [{
        "POOL": 0, "URL": "stratum+tcp://pool.invalid:3333", "Status": "Alive", "Stratum Active": True,
        "Accepted": s.accepted, "Rejected": s.rejected, "Stale": 0, "Difficulty Accepted": s.diff_accepted,
        "Difficulty Rejected": s.diff_rejected, "Last Share Difficulty": s.difficulty,
    }])


def _chain_stats(s: State) -> dict[str, Any]:
    per_board = s.rate_hs / max(len(s.chips), 1) / 1e9
    out: dict[str, Any] = {"STATS": 0, "ID": "BC50", "Elapsed": int(s.elapsed), "miner_count": len(s.chips),
                           "fan_num": 4, "total_rateideal": round(s.nominal_hs / 1e9, 2), "rate_unit": "GH"}
    for i in range(4):
        out[f"fan{i + 1}"] = 5400 + 30 * i
    for i, chips in enumerate(s.chips, start=1):
        out.update({f"chain_acn{i}": chips, f"chain_hw{i}": s.hw_errors // len(s.chips),
                    f"chain_rate{i}": f"{per_board * chips / max(s.chips_expected, 1):.2f}",
                    f"temp_pcb{i}": f"{48 + i}-{49 + i}-{60 + i}-{61 + i}",
                    f"temp_chip{i}": f"{63 + i}-{64 + i}-{75 + i}-{76 + i}"})
    return out


def antminer(s: State, command: str) -> dict[str, Any] | None:
    """Stock bmminer (and, with ``LUXminer`` and ``power``, LuxOS)."""
    lux = s.family == "luxos"
    head = {"LUXminer" if lux else "BMMiner": "2024.1" if lux else "1.0.0", "Miner": "uart_trans.1.3",
            "CompileTime": "Mon Jan 1 00:00:00 CST 2024", "Type": s.model}
    return {
        "version": lambda: _ok("VERSION", [{**head, "API": "3.1"}]),
        "devdetails": lambda: _ok("DEVDETAILS", []),
        "summary": lambda: _ok("SUMMARY", [_summary(s, "G", 1e9)]),
        "stats": lambda: _ok("STATS", [head, _chain_stats(s)]),
        "pools": lambda: _pools(s),
        "power": lambda: _ok("POWER", [{"Watts": round(s.power_w or 0)}]) if lux and s.power_w else None,
    }.get(command, _none)()


def braiins(s: State, command: str) -> dict[str, Any] | None:
    """Braiins OS (bosminer's cgminer-compatible API)."""
    ids = range(6, 6 + len(s.chips))
    return {
        "version": lambda: _ok("VERSION", [{"BOSminer": "0.2.0-sim", "API": "3.7"}]),
        "devdetails": lambda: _ok("DEVDETAILS", [{"ID": i, "Model": f"Bitmain {s.model}", "Chips": c}
                                                 for i, c in zip(ids, s.chips)]),
        "summary": lambda: _ok("SUMMARY", [_summary(s, "M", 1e6)]),
        "devs": lambda: _ok("DEVS", [{"ID": i, "MHS 5s": round(s.rate_hs / len(s.chips) / 1e6, 2),
                                      "Hardware Errors": s.hw_errors // len(s.chips)} for i in ids]),
        "temps": lambda: _ok("TEMPS", [{"ID": i, "Board": 55.0 + i, "Chip": 70.0 + i} for i in ids]),
        "fans": lambda: _ok("FANS", [{"ID": n, "RPM": 4000 + n, "Speed": 60} for n in range(4)]),
        "tunerstatus": lambda: _ok("TUNERSTATUS", [{
            **_watts("ApproximateMinerPowerConsumption", s), "PowerLimit": 3600,
            "TunerChainStatus": [{"HashchainIndex": i, "Status": "Stable" if s.stable else "Tuning individual chips"}
                                 for i in ids]}]),
        "pools": lambda: _pools(s),
    }.get(command, _none)()


def avalon(s: State, command: str) -> dict[str, Any] | None:
    """Canaan Avalon (cgminer with an ``MM ID0`` bracket string in ``estats``)."""
    mm = (f"Ver[{s.model[-4:]}-sim] DNA[020100001a2b3c4d] Elapsed[{int(s.elapsed)}] Temp[31] TMax[88] TAvg[76] "
          f"Fan1[5100] Fan2[5120] GHSmm[{s.nominal_hs / 1e9:.2f}] "
          + (f"WALLPOWER[{round(s.power_w)}] " if s.power_w else "") + "PS[0 1212 1254 78 981 1254] "
          f"MTmax[{' '.join(str(86 + i) for i in range(len(s.chips)))}] "
          f"MTavg[{' '.join(str(70 + i) for i in range(len(s.chips)))}] "
          f"MGHS[{' '.join(f'{s.rate_hs / len(s.chips) / 1e9:.2f}' for _ in s.chips)}]")
    return {
        "version": lambda: _ok("VERSION", [{"CGMiner": "4.11.1", "PROD": f"AvalonMiner {s.model[-4:]}",
                                            "MODEL": s.model[-4:], "DNA": "020100001a2b3c4d", "LVERSION": "sim"}]),
        "devdetails": lambda: _ok("DEVDETAILS", []),
        "summary": lambda: _ok("SUMMARY", [_summary(s, "M", 1e6)]),
        "estats": lambda: _ok("STATS", [{"STATS": 0, "ID": "AVA100", "MM ID0": mm}]),
        "pools": lambda: _pools(s),
    }.get(command, _none)()


def whatsminer_v2(s: State, command: str) -> dict[str, Any] | None:
    """Whatsminer API v2 (read commands, no token needed)."""
    summary = {**_summary(s, "M", 1e6), "MHS 1m": round(s.rate_hs / 1e6, 2), **_watts("Power", s),
               "Factory GHS": round(s.nominal_hs / 1e9), "Fan Speed In": 4530, "Fan Speed Out": 4560,
               "Hash Stable": s.stable, "Env Temp": 31.0}
    return {
        "version": lambda: _ok("VERSION", [{"CGMiner": "4.9.2", "API": "3.7"}]),
        "devdetails": lambda: _ok("DEVDETAILS", [{"Name": "SM", "ID": i, "Driver": "bitmicro",
                                                  "Model": s.model.split()[-1]} for i in range(len(s.chips))]),
        "summary": lambda: _ok("SUMMARY", [summary]),
        "edevs": lambda: _ok("DEVS", [{"ASC": i, "Slot": i, "Temperature": 60.0 + i, "Chip Temp Max": 90.0 + i,
                                       "MHS 1m": round(s.rate_hs / len(s.chips) / 1e6, 2), "Effective Chips": c,
                                       "PCB SN": f"HHM{i:04d}"} for i, c in enumerate(s.chips)]),
        "pools": lambda: _pools(s),
        "get_version": lambda: {"STATUS": "S", "When": 1700000000, "Code": 131, "Msg": {"api_ver": "2.0.5",
                                "fw_ver": "20240101.13.Rel", "platform": "H6OS"}, "Description": ""},
        "get_miner_info": lambda: {"STATUS": "S", "When": 1700000000, "Code": 131,
                                   "Msg": {"minersn": "WMSIM0001", "mac": "C6:07:00:00:00:01"}},
    }.get(command, _none)()


#: The salt a simulated Whatsminer v3 hands out for privileged commands.
SALT = "BQ5hoXV9"


def whatsminer_v3(s: State, cmd: str, param: Any) -> dict[str, Any]:
    """Whatsminer API v3 (4433, length-prefixed)."""
    if cmd == "get.device.info" and param == "salt":
        return {"code": 0, "when": 1700000000, "desc": cmd, "msg": {"salt": SALT}}
    if cmd == "get.device.info":
        return {"code": 0, "when": 1700000000, "desc": cmd, "msg": {
            "miner": {"type": s.model.split(" ", 1)[-1].replace(" ", "_"), "miner-sn": "WM3SIM0001",
                      "board-num": str(len(s.chips))},
            "system": {"api": "3.0.0", "fwversion": "20240722.07.51.REL"}}}
    if cmd != "get.miner.status":
        return {"code": -2, "when": 1700000000, "desc": cmd, "msg": "Invalid command"}
    parts = str(param or "").split("+")
    msg: dict[str, Any] = {}
    if "summary" in parts:
        msg["summary"] = {"elapsed": int(s.elapsed), "factory-hash": round(s.nominal_hs / 1e12, 3),
                          "hash-average": round(s.hashes / max(s.elapsed, 1e-9) / 1e12, 3),
                          "hash-realtime": round(s.rate_hs / 1e12, 3), **_watts("power-realtime", s),
                          "board-temperature": [69.6, 70.1, 72.3][: len(s.chips)], "up-freq-finish": int(s.stable),
                          "fan-speed-in": 4980, "fan-speed-out": 5070}
    if "edevs" in parts:
        msg["edevs"] = [{"id": i, "slot": i, "hash-average": round(s.rate_hs / len(s.chips) / 1e12, 3),
                         "effective-chips": c, "chip-temp-max": 95.0} for i, c in enumerate(s.chips)]
    if "pools" in parts:
        msg["pools"] = [{"id": 1, "url": "stratum+tcp://pool.invalid:3333", "status": "alive", "account": "sim",
                         "stratum-active": True, "reject-rate": 0.0}]
    return {"code": 0, "when": 1700000000, "desc": cmd, "msg": msg}


def _none() -> None:
    return None


#: Reply builders of the cgminer-protocol families.
BUILDERS: dict[str, Callable[[State, str], dict[str, Any] | None]] = {
    "antminer": antminer, "luxos": antminer, "braiins": braiins, "avalon": avalon, "whatsminer": whatsminer_v2,
}
