"""A fleet too big for one poller, in shards: ``miners run --shard K/N`` and ``sitebench merge``.

- :mod:`~bench.miners.fleet.shard`: which miners a shard polls (a balanced slice of the host list in
  hash order, stable under reordering), from ``--shard K/N``, a Slurm job array or a Kubernetes Indexed Job;
- :mod:`~bench.miners.fleet.runid`: the run id the shards share, window alignment to wall-clock
  boundaries, and the poller's clock offset from its NTP state;
- :mod:`~bench.miners.fleet.parquet`: each poll of each miner as a row of the shard's Parquet file
  (:mod:`bench.record.samples`), written as polled;
- :mod:`~bench.miners.fleet.summary`: the shard's JSON result (the miners' runs without their series, the
  Parquet file's name, SHA-256 and row count, shard, run id, alignment, clock; signed over all of it);
- :mod:`~bench.miners.fleet.merge`: the shards joined into one fleet result with bounded memory, the spread
  between miners kept as :mod:`~bench.miners.fleet.distribution` histograms.
- :mod:`~bench.miners.fleet.recovery`: a shard killed before its end made again by ``sitebench recover``, its
  samples written again from the journal.
"""
