"""`sitebench miners scan|run`: find ASIC miners on the LAN and measure them through their APIs."""

from __future__ import annotations

import argparse
from typing import Any

from bench.errors import UsageError

DESCRIPTION = """\
Qualify ASIC miners (Antminer stock/Braiins OS/LuxOS, Whatsminer API v2 and v3,
Avalon) over their read-only LAN APIs: cgminer-family JSON on TCP 4028, Whatsminer
API v3 on 4433. Nothing is ever written to a miner.

  scan  find miners in addresses and CIDR ranges (a range wider than /16 needs
        --force): make, model, firmware, hash rate, reported power, how reached.
  run   measure miners (hash counter over windows, pool cross-check, power):
        not available yet.

examples:
  sitebench miners scan 10.0.0.0/24
  sitebench miners scan 10.0.1.5 10.0.1.6:4028 --json
"""


def register(sub: Any) -> None:
    p = sub.add_parser("miners", help="find and measure ASIC miners over their LAN APIs",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="miners_command", metavar="ACTION")
    scan = actions.add_parser("scan", help="find miners in addresses and CIDR ranges",
                              description="Probe every address (bounded concurrency, a per-address timeout); "
                              "print each miner found and why named addresses are not miners. Exit 0 when a "
                              "miner was found, 1 when none, 2 for bad input.")
    scan.add_argument("targets", nargs="+", metavar="CIDR|HOST[:PORT]", help="addresses, host names or ranges")
    scan.add_argument("--json", action="store_true", help="print a JSON list, one object per address probed")
    scan.add_argument("--force", action="store_true", help="allow ranges wider than /16")
    scan.add_argument("--timeout", type=float, default=2.0, metavar="S", help="seconds per address (default 2)")
    scan.add_argument("--concurrency", type=int, default=256, metavar="N",
                      help="addresses probed at once (default 256)")
    scan.set_defaults(func=main_scan)
    run = actions.add_parser("run", help="measure miners (not available yet)")
    run.add_argument("hosts", nargs="*", metavar="HOST")
    run.set_defaults(func=main_run)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _row(result: Any) -> dict[str, Any]:
    ident, poll = result.identity, result.poll
    row: dict[str, Any] = {"address": result.target.host if result.target.port is None
                           else f"{result.target.host}:{result.target.port}",
                           "found": ident is not None, "seconds": round(result.seconds, 3)}
    if ident is None:
        return {**row, "error": result.error}
    rates = poll.rates_hs
    return {**row, "make": ident.make, "model": ident.model, "firmware": ident.firmware, "serial": ident.serial,
            "protocol": ident.protocol, "family": ident.family, "port": ident.port,
            "hashrate_hs": rates.get("5s", rates.get("realtime", rates.get("av"))), "power_w": poll.power_w,
            "power_source": poll.power_source, "chips": poll.chips, "chips_expected": poll.chips_expected,
            "boards": len(poll.boards), "elapsed_s": poll.elapsed_s}


def _reached(row: dict[str, Any]) -> str:
    api = {"cgminer": "cgminer API", "whatsminer-v3": "Whatsminer API v3"}.get(row["protocol"], row["protocol"])
    if row["family"] == "whatsminer" and row["protocol"] == "cgminer":
        api = "Whatsminer API v2"
    return f"{api} :{row['port']}"


def main_scan(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import time

    from rich.table import Table

    from bench import console, units
    from bench.miners.scan import scan

    t0 = time.monotonic()
    results = asyncio.run(scan(args.targets, force=args.force, concurrency=args.concurrency,
                               timeout_s=args.timeout))
    seconds = time.monotonic() - t0
    rows = [_row(r) for r in results]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0 if any(r["found"] for r in rows) else 1
    table = Table(title=f"Miners found ({len(rows)} addresses in {seconds:.1f} s)", title_justify="left")
    for col in ("address", "make", "model", "firmware", "hash rate", "power", "chips", "reached through"):
        table.add_column(col, justify="right" if col in ("hash rate", "power", "chips") else "left")
    failures = []
    for r, res in zip(rows, results):
        if r["found"]:
            chips = "-" if r["chips"] is None else f"{r['chips']}" + (f"/{r['chips_expected']}" if r["chips_expected"] else "")
            power = units.watts(r["power_w"]) + ("" if r["power_w"] is None else " (firmware)")
            table.add_row(r["address"], r["make"], r["model"], r["firmware"], units.rate(r["hashrate_hs"], "hash"),
                          power, chips, _reached(r))
        elif res.target.named or not (res.refused or "no answer" in (r["error"] or "")):
            error = str(r["error"])
            failures.append(f"  {error}" if error.startswith(res.target.host) else f"  {r['address']}: {error}")
    found = sum(r["found"] for r in rows)
    refused = sum(1 for res in results if res.refused)
    console.out().print(table)
    console.out().print(f"{found} miner(s); {refused} address(es) refused the connection, "
                        f"{len(rows) - found - refused} did not answer or are not miners"
                        + ("; why these are not miners:" if failures else ""))
    for line in failures:
        console.out().print(line, markup=False)
    return 0 if found else 1


def main_run(args: argparse.Namespace) -> int:
    raise UsageError("miners run is not available yet (measuring miners into a result file comes with the "
                     "new run record); use 'sitebench miners scan' to find them")
