"""Power meter back-ends: one module per source (RAPL, NVML, BMCs, logs, the modelled estimate)."""
