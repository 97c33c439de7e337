"""Top-level pytest configuration: sitebench's benchmark fixtures live here."""

pytest_plugins = ["bench.benchmarking.plugin"]
