"""Power meters behind one interface, a background sampler, and energy windows."""

from bench.power.meter import Meter, Reading

__all__ = ["Meter", "Reading"]
