"""Measuring a served endpoint: the load (Poisson or gamma arrivals, max concurrency), the steady
window cut into slices on the power sampler, vLLM's metrics, energy per token."""
