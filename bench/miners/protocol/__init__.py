"""The miners' LAN APIs, read-only: a bounded TCP exchange, the repair of messy replies, one normalised
:class:`~bench.miners.protocol.model.Poll` per firmware family, identification, scanning of ranges, the
model catalog, and the one write (a power target, only when asked). Nothing here knows about windows,
power meters or result files; the layers above build on it.
"""
