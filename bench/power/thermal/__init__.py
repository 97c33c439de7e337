"""Temperature, humidity and fan sources read beside power: hwmon, a BMC (Redfish, IPMI), a PDU's probe (SNMP).

GPU temperatures come with the ``nvml`` meter's readings and a miner's with its polls; the sources here
are the others, each opened from a ``--thermal`` spec (:mod:`bench.power.thermal.spec`) and polled by a
:class:`~bench.power.thermal.sampler.ThermalSampler` beside the power sampler.
"""
