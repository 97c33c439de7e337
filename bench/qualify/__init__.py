"""``sitebench qualify``: result files held to a spec (per-GPU, per-node and per-miner rules, fleet outliers)."""
