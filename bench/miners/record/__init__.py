"""From measurement to result file: one miner's outcome as a run record (its power through the power
layer), ``sitebench miners run`` end to end (scan, measure, journal, write the file) and ``sitebench
recover`` for a miners journal (registered with :mod:`bench.measure.recover` on import). Built on
:mod:`bench.miners.measure` and :mod:`bench.miners.protocol`.
"""
