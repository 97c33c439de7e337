"""A site's climate turned into annual figures: hours of outdoor air, the cooling model, a year integrated.

- :mod:`~bench.sizing.climate.year` — a year of hourly dry bulb and humidity; :mod:`~.psychro` the moist-air
  formulas (dew point, Stull's wet bulb);
- :mod:`~.epw`, :mod:`~.csvfile` — reading an EnergyPlus weather file or a plain CSV year;
- :mod:`~.sites`, :mod:`~.construct` — the shipped sites (``bench/data/climate``) and the typical year
  constructed from their monthly means;
- :mod:`~.cooling` — outdoor air to machine inlet, and PUE with the heat;
- :mod:`~.annual` — one sized allocation integrated hour by hour; :mod:`~.apply`, :mod:`~.render`,
  :mod:`~.plots`, :mod:`~.options` — what ``size``, ``plan`` and ``report`` show of it.
"""
