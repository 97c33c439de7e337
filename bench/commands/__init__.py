"""Subcommands of `sitebench`, one module each, discovered by bench.cli."""
