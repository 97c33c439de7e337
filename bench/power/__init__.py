"""Power meters behind one interface, a background sampler, and energy windows.

- :mod:`bench.power.spec`: ``MeterSpec``, the one grammar of ``--meter`` and every back-end's declaration;
- :mod:`bench.power.discovery`: ``open_meters(specs, policy)``, the one place specs become open meters;
- :mod:`bench.power.meters`: the back-ends, each an ``open_spec(spec)`` factory and its ``Meter`` classes;
- :mod:`bench.power.poller`: the one background poller (slow sources); :mod:`bench.power.http`: the one HTTP client;
- :mod:`bench.power.plausible`: the one rule for what a meter can read (an impossible reading is a gap);
- :mod:`bench.power.sampler` and :mod:`bench.power.window`: readings into energy windows.
"""

from bench.power.meter import Meter, Reading

__all__ = ["Meter", "Reading"]
