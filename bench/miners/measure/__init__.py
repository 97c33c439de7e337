"""Measuring miners over their APIs: every miner polled on a fixed schedule, warm-up, windows cut from the
hash counter, the pool-share and hardware-error verdict, telemetry series, the per-miner outcome
(:class:`~bench.miners.measure.outcome.MinerMeasurement`), the PDU outlets that meter them and the journal
that keeps every poll. Built on :mod:`bench.miners.protocol`; knows nothing of run records but their types.
"""
