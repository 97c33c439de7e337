"""Simulators for testing integrations without hardware, served on loopback.

- :mod:`bench.testing.miners`: ASIC miners speaking their LAN APIs (cgminer-family JSON on
  port 4028, Whatsminer API v2/v3), with counters, pool shares, boards and fans that move.
- :mod:`bench.testing.openai_server`: an OpenAI-compatible streaming server with fixed time
  to first token and inter-token latency, errors and cut streams on request.

They are public API: vendors and downstream CI use them to test their own tooling
against sitebench, as sitebench's own tests do.
"""
