"""ASIC miners measured through their read-only LAN APIs (``sitebench miners``).

Five sub-packages, bottom up; a module imports only from its own layer or the ones below it:

- :mod:`bench.miners.protocol`, the miners' APIs: :mod:`~bench.miners.protocol.transport` (one bounded
  TCP exchange, the boundary every reply crosses: bytes, nesting, read timeout, deadline; Whatsminer API
  v3 framing), :mod:`~bench.miners.protocol.parse` (repairing messy replies, units to H/s, typed and
  bounded figures, the guard at the parse edge), :mod:`~bench.miners.protocol.model` (the normalised
  :class:`~bench.miners.protocol.model.Poll` and :class:`~bench.miners.protocol.model.Identity`),
  :mod:`~bench.miners.protocol.catalog` (each model's chips and nameplate figures),
  :mod:`~bench.miners.protocol.cgminer` and :mod:`~bench.miners.protocol.whatsminer` (replies to one Poll),
  :mod:`~bench.miners.protocol.client` (identification and one poll per firmware family, read commands
  only), :mod:`~bench.miners.protocol.scan` (ranges, bounded concurrency, per-host timeout) and
  :mod:`~bench.miners.protocol.write` (the one write, only when asked).
- :mod:`bench.miners.measure`, measuring: :mod:`~bench.miners.measure.poller` (every miner on a fixed
  schedule, every tick accounted for), :mod:`~bench.miners.measure.window`,
  :mod:`~bench.miners.measure.warmup` and :mod:`~bench.miners.measure.verify` (throughput from the hash
  counter, restarts as gaps, stability, the pool cross-check), :mod:`~bench.miners.measure.plausible`
  (a miner's claims bounded by its model's catalog figures: rate ceiling, counter glitches, firmware
  power), :mod:`~bench.miners.measure.telemetry` (boards, fans, chips in the GPU layout),
  :mod:`~bench.miners.measure.outcome` (the outcome per miner), :mod:`~bench.power.meters.outlets`
  (each miner's PDU outlet, one SNMP GET per PDU) and :mod:`~bench.miners.measure.journal` (every poll as
  it comes).
- :mod:`bench.miners.record`, the result file: :mod:`~bench.miners.record.runrecord` (a measurement as a
  run record, power through the power layer), :mod:`~bench.miners.record.session` (``miners run`` end to
  end) and :mod:`~bench.miners.record.recovery` (``recover`` rebuilds the file from the journal: nothing
  measured is lost).
- :mod:`bench.miners.view`, what the front end prints: :mod:`~bench.miners.view.table`.
- :mod:`bench.miners.fleet`, a fleet too big for one poller, beside the view on the top layer: shards of
  the host list (``--shard K/N``, a Slurm job array, a Kubernetes Indexed Job), their samples as Parquet,
  their results, and ``sitebench merge``.

The rest of sitebench reads miner runs without importing this package (the readers sit below the front
ends): through :mod:`bench.record.miners` (a miner's figures from its run record), :mod:`bench.shares`
(the pool-share statistics, which the validator recomputes), :mod:`bench.qualify.miners` (per-miner
rules) and :mod:`bench.sizing.miners` (a model's average miner for sizing). :mod:`bench.testing.miners`
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
