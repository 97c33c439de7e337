"""Whole nodes and fleets: per-GPU outliers and qualification verdicts."""
