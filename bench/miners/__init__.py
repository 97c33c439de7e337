"""ASIC miners measured through their read-only LAN APIs (``sitebench miners``).

Layers, bottom up: :mod:`~bench.miners.transport` (one bounded TCP exchange; Whatsminer
API v3 framing), :mod:`~bench.miners.parse` (repairing messy replies, units to H/s),
:mod:`~bench.miners.client` (identification and one poll per firmware family, read
commands only), :mod:`~bench.miners.cgminer` and :mod:`~bench.miners.whatsminer` (replies
to one normalised :class:`~bench.miners.model.Poll`), :mod:`~bench.miners.scan` (ranges,
bounded concurrency, per-host timeout), :mod:`~bench.miners.poller` (every miner on a fixed
schedule, every tick accounted for), :mod:`~bench.miners.window`,
:mod:`~bench.miners.warmup` and :mod:`~bench.miners.verify` (throughput from the hash
counter, restarts as gaps, stability, the pool cross-check) and
:mod:`~bench.miners.measure` (the outcome per miner). Then the result file:
:mod:`~bench.miners.record` (a measurement as a run record, power through the power layer),
:mod:`~bench.miners.telemetry` (boards, fans, chips in the GPU layout),
:mod:`~bench.miners.outlets` (each miner's PDU outlet, one SNMP GET per PDU),
:mod:`~bench.miners.session` (``miners run`` end to end), :mod:`~bench.miners.journal` and
:mod:`~bench.miners.recovery` (nothing measured is lost), :mod:`~bench.miners.write` (the one
write, only when asked). The rest of sitebench reads miner runs through
:mod:`~bench.miners.figures`, :mod:`~bench.qualify.miners` (per-miner rules) and
:mod:`~bench.sizing.miners` (a model's average miner for sizing). :mod:`~bench.testing.miners`
serves simulated miners on loopback for the tests, demos and ``benchmarks/miners_scale.py``.

Why sitebench speaks the miners' APIs itself rather than through pyasic (0.79, evaluated
against the simulator and by reading its source):

- pyasic's ``MinerData`` keeps no cumulative hash counter (``Total MH``), no accepted share
  difficulty and no hardware-error count, the three figures throughput and verification
  are measured from; it keeps the miner's own 5 s/average rates.
- On stock Antminer firmware it reads hash boards through the web interface with the
  default password (``root``/``root``); through the cgminer API alone every board came
  back ``chips=None, missing=True``. It also probes ports 80/443 and tries that password
  while detecting any address, which a read-only tool must not do unasked.
- Its reply repair turns ``"inf"``/``"nan"`` into 0 (a silent zero) and a truncated reply
  into a dict with the last fields dropped, and a refused connection into ``{}``.
- Detection is bounded (``factory_get_timeout``, 3 s for a host that hangs): not the problem.

So the client here is a few hundred lines of asyncio for the protocols the issue names
(cgminer-family JSON on 4028 with ``+``-joined commands; Whatsminer API v2 and v3), and
its field mapping follows what pyasic's backends read, firmware by firmware.
"""
