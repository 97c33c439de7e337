"""Sizing: from measured work per joule to machines, throughput and MW per unit of throughput.

- :mod:`bench.sizing.power` — the power one machine draws, its scope class,
  node overhead and accuracy band.
- :mod:`bench.sizing.model` — an allocation of MW sized with low and high
  bounds (the formula is in that module's docstring); every command that says
  what a MW buys (run, show, size, plan, report, leaderboard) goes through it.
- :mod:`bench.sizing.plan` — ``sitebench plan``: TOML site plans.
- :mod:`bench.sizing.declare` — declared (not measured) result files.
"""
