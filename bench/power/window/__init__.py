"""Aggregation: energy over a window between markers, the run's power block, quality and cross-checks."""
